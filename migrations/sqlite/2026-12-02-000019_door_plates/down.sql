DROP INDEX door_plates_village;
DROP TABLE door_plates;
