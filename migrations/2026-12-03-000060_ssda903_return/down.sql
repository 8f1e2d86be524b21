DROP TABLE ssda903_episodes;
DROP TABLE ssda903_children;
