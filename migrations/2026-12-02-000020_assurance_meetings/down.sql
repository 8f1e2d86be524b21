DROP TABLE meeting_notes;
DROP TABLE meeting_actions;
DROP TABLE assurance_meetings;
