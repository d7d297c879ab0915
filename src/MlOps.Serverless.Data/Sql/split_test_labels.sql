-- Test labels for the evaluation query: the columns of the test_labels table, in its order.
UNLOAD (
  SELECT record_id, weekly_sales, weight, naive, scale, store, dept, sale_date
  FROM features
  WHERE run_id = '{{run_id}}' AND attempt = '{{features_attempt}}' AND split = 'test'
) TO '{{test_labels_uri}}r{{redrive_count}}/' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'gzip')
