-- Validation split: XGBoost CSV for the SageMaker 'validation' channel: label first, no header, gzip.
-- Rows without a year of history at their origin have no label and are left out.
UNLOAD (
  SELECT label, {{feature_columns}}
  FROM features
  WHERE run_id = '{{run_id}}' AND split = 'validation' AND label IS NOT NULL
) TO '{{validation_uri}}' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'gzip')
