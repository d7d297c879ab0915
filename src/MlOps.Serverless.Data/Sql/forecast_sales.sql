-- The forecast in dollars, for people: every (store, dept, week) of the forecast horizon with the model's weekly
-- sales (prediction x the series scale, as the evaluation does for the test weeks) and the naive forecast beside
-- it (the same week last year; 0 where the series sold nothing then). The columns of the forecast_sales table.
UNLOAD (
  SELECT f.store, f.dept, f.sale_date AS week, round(p.prediction * f.scale, 2) AS predicted_sales,
         round(f.naive, 2) AS naive_sales, f.is_holiday
  FROM features f
  JOIN forecast_predictions p ON p.record_id = f.record_id
  WHERE f.run_id = '{{run_id}}' AND f.attempt = '{{features_attempt}}' AND f.split = 'forecast' AND p.run_id = '{{run_id}}'
  ORDER BY f.sale_date, f.store, f.dept
) TO '{{forecast_sales_uri}}r{{redrive_count}}/' WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'gzip')
