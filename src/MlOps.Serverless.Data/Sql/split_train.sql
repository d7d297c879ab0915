-- Train split: XGBoost CSV for the SageMaker 'train' channel: label, instance weight (csv_weights=1), features;
-- no header, uncompressed (SageMaker File mode hands the container objects as stored). Rows without a year of history at their origin have no label and are left out.
-- One folder shard=k/ per training instance (whole series in each): with more than one instance the channel is
-- ShardedByS3Key, and each instance must find files of its own: series are dealt to the shards in turn, so no shard is
-- empty while there are at least as many series as instances.
-- The weight is WMAE's (holiday weeks 5, others 1). Multiplying it by the series scale would make the loss WMAE's
-- dollar form exactly, but measured worse on the real data (docs/data-stages.md: big series dominate the fit).
UNLOAD (
  SELECT label, weight, {{feature_columns}}, dense_rank() OVER (ORDER BY "store", "dept") % {{shards}} AS shard
  FROM features
  WHERE run_id = '{{run_id}}' AND attempt = '{{features_attempt}}' AND split = 'train' AND label IS NOT NULL
) TO '{{train_uri}}r{{redrive_count}}/' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'NONE', partitioned_by = ARRAY['shard'])
