-- Test features for batch transform: record id first (JoinSource=Input, InputFilter=$[1:]), no header, gzip.
UNLOAD (
  SELECT record_id, {{feature_columns}}
  FROM features
  WHERE run_id = '{{run_id}}' AND split = 'test'
) TO '{{test_features_uri}}' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'gzip')
