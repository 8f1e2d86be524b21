DROP TABLE legal_status_changes;
