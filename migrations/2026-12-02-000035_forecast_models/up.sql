-- The fitted parameters of the lateness forecast (src/forecast), one set per day fitted:
-- the day the data was read (only events recorded by then were used), the window of
-- steps counted, and the parameters as text (`forecast::Params::to_text`). A forecast for
-- a day D uses the latest set fitted on or before D, so a past day's forecast can be made
-- again exactly. Two refits on one day cannot both be stored: fitted_on is unique.
CREATE TABLE forecast_models (
    id TEXT PRIMARY KEY NOT NULL,
    fitted_on DATE NOT NULL UNIQUE,
    window_from DATE NOT NULL,
    observations INTEGER NOT NULL CHECK (observations >= 0),
    params TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
