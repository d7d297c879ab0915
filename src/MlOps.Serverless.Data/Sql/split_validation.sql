-- Validation split: XGBoost CSV for the SageMaker 'validation' channel: label, instance weight (csv_weights=1),
-- features; no header, uncompressed (SageMaker File mode hands the container objects as stored). Rows without a year of history at their origin have no label and are left out.
-- One folder shard=k/ per training instance, as the train split. The same WMAE weight as the train split, so validation metrics (validation:mae) weigh holiday weeks 5 as WMAE does.
UNLOAD (
  SELECT label, weight, {{feature_columns}}, dense_rank() OVER (ORDER BY "store", "dept") % {{shards}} AS shard
  FROM features
  WHERE run_id = '{{run_id}}' AND attempt = '{{features_attempt}}' AND split = 'validation' AND label IS NOT NULL
) TO '{{validation_uri}}r{{redrive_count}}/' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'NONE', partitioned_by = ARRAY['shard'])
