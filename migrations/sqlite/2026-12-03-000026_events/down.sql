DROP TABLE event_checkins;
DROP TABLE events;
