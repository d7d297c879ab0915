-- Forecast features: the weeks after the last sales week that have feature rows, for the batch-prediction stage.
-- Same layout as the test features: record id first, no header, gzip.
UNLOAD (
  SELECT record_id, {{feature_columns}}
  FROM features
  WHERE run_id = '{{run_id}}' AND attempt = '{{features_attempt}}' AND split = 'forecast'
) TO '{{forecast_features_uri}}r{{redrive_count}}/' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'gzip')
