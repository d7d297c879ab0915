-- Test labels for the evaluation query: the columns of the test_labels table, in its order.
UNLOAD (
  SELECT record_id, weekly_sales, weight, naive, scale, store, dept, sale_date
  FROM features
  WHERE run_id = '{{run_id}}' AND split = 'test'
) TO '{{test_labels_uri}}' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'gzip')
