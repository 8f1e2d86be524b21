DROP TABLE forecast_stamps;
