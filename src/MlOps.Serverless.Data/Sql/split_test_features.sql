-- Test features for batch transform: record id first (JoinSource=Input, InputFilter=$[1:]), no header, gzip.
UNLOAD (
  SELECT record_id, {{feature_columns}}
  FROM features
  WHERE run_id = '{{run_id}}' AND attempt = '{{features_attempt}}' AND split = 'test'
) TO '{{test_features_uri}}r{{redrive_count}}/' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'gzip')
