-- Data quality measurements of one raw batch, one row per measurement:
-- (metric, dataset, column_name, value, examples). The DataQualityVerdict stage applies the rules.
-- Column names in the output are the CSV header names so that messages name what the user sees.
-- Raw tables are strings (OpenCSVSerde): trim, drop the CR that CRLF files leave on the last field.
WITH
sales AS (
  SELECT trim(store) AS store, trim(dept) AS dept, trim("date") AS date_raw, trim(weekly_sales) AS sales_raw,
         trim(replace(isholiday, chr(13), '')) AS holiday_raw
  FROM raw_sales WHERE run_id = '{{run_id}}'
),
features AS (
  SELECT trim(store) AS store, trim("date") AS date_raw, trim(temperature) AS temperature, trim(fuel_price) AS fuel_price,
         trim(markdown1) AS markdown1, trim(markdown2) AS markdown2, trim(markdown3) AS markdown3,
         trim(markdown4) AS markdown4, trim(markdown5) AS markdown5, trim(cpi) AS cpi, trim(unemployment) AS unemployment,
         trim(replace(isholiday, chr(13), '')) AS holiday_raw
  FROM raw_features WHERE run_id = '{{run_id}}'
),
stores AS (
  SELECT trim(store) AS store, trim(type) AS store_type, trim(replace(size, chr(13), '')) AS size_raw
  FROM raw_stores WHERE run_id = '{{run_id}}'
),
-- Each distinct date string is parsed once (143 in the real data) instead of once per row.
sales_date_strings AS (
  SELECT date_raw, CAST(try(date_parse(date_raw, '%d/%m/%Y')) AS date) AS sale_date
  FROM (SELECT DISTINCT date_raw FROM sales WHERE date_raw IS NOT NULL) d
),
sales_p AS (
  SELECT s.store, s.dept, s.date_raw, s.sales_raw, s.holiday_raw,
         try_cast(s.store AS integer) AS store_n, try_cast(s.dept AS integer) AS dept_n,
         d.sale_date, try_cast(s.sales_raw AS double) AS sales
  FROM sales s LEFT JOIN sales_date_strings d ON d.date_raw = s.date_raw
),
features_p AS (
  SELECT *, try_cast(store AS integer) AS store_n, CAST(try(date_parse(date_raw, '%d/%m/%Y')) AS date) AS feature_date
  FROM features
),
-- Per row and column: does the value parse? Required columns count a missing value (NA/empty) as unparsable,
-- optional ones only a present value that does not parse.
sales_f AS (
  SELECT *, store_n IS NULL AS store_bad, dept_n IS NULL AS dept_bad,
         coalesce(year(sale_date) NOT BETWEEN 1990 AND 2100, true) AS date_bad,
         sales IS NULL AS sales_bad, coalesce(holiday_raw NOT IN ('TRUE', 'FALSE'), true) AS holiday_bad
  FROM sales_p
),
features_f AS (
  SELECT *, store_n IS NULL AS store_bad,
         coalesce(year(feature_date) NOT BETWEEN 1990 AND 2100, true) AS date_bad,
         coalesce(holiday_raw NOT IN ('TRUE', 'FALSE'), true) AS holiday_bad,
         coalesce(temperature NOT IN ('', 'NA') AND try_cast(temperature AS double) IS NULL, false) AS temperature_bad,
         coalesce(fuel_price NOT IN ('', 'NA') AND try_cast(fuel_price AS double) IS NULL, false) AS fuel_price_bad,
         coalesce(markdown1 NOT IN ('', 'NA') AND try_cast(markdown1 AS double) IS NULL, false) AS markdown1_bad,
         coalesce(markdown2 NOT IN ('', 'NA') AND try_cast(markdown2 AS double) IS NULL, false) AS markdown2_bad,
         coalesce(markdown3 NOT IN ('', 'NA') AND try_cast(markdown3 AS double) IS NULL, false) AS markdown3_bad,
         coalesce(markdown4 NOT IN ('', 'NA') AND try_cast(markdown4 AS double) IS NULL, false) AS markdown4_bad,
         coalesce(markdown5 NOT IN ('', 'NA') AND try_cast(markdown5 AS double) IS NULL, false) AS markdown5_bad,
         coalesce(cpi NOT IN ('', 'NA') AND try_cast(cpi AS double) IS NULL, false) AS cpi_bad,
         coalesce(unemployment NOT IN ('', 'NA') AND try_cast(unemployment AS double) IS NULL, false) AS unemployment_bad
  FROM features_p
),
stores_f AS (
  SELECT *, try_cast(store AS integer) IS NULL AS store_bad, coalesce(store_type NOT IN ('A', 'B', 'C'), true) AS type_bad,
         try_cast(size_raw AS integer) IS NULL AS size_bad
  FROM stores
),
-- One aggregate pass per file, unpivoted to (dataset, column) afterwards.
sales_counts AS (
  SELECT count(*) AS total,
         count_if(coalesce(store, '') IN ('', 'NA')) AS store_missing, count_if(store_bad) AS store_bad,
         count_if(coalesce(dept, '') IN ('', 'NA')) AS dept_missing, count_if(dept_bad) AS dept_bad,
         count_if(coalesce(date_raw, '') IN ('', 'NA')) AS date_missing, count_if(date_bad) AS date_bad,
         count_if(coalesce(sales_raw, '') IN ('', 'NA')) AS sales_missing, count_if(sales_bad) AS sales_bad,
         count_if(coalesce(holiday_raw, '') IN ('', 'NA')) AS holiday_missing, count_if(holiday_bad) AS holiday_bad
  FROM sales_f
),
features_counts AS (
  SELECT count(*) AS total,
         count_if(coalesce(store, '') IN ('', 'NA')) AS store_missing, count_if(store_bad) AS store_bad,
         count_if(coalesce(date_raw, '') IN ('', 'NA')) AS date_missing, count_if(date_bad) AS date_bad,
         count_if(coalesce(holiday_raw, '') IN ('', 'NA')) AS holiday_missing, count_if(holiday_bad) AS holiday_bad,
         count_if(coalesce(temperature, '') IN ('', 'NA')) AS temperature_missing, count_if(temperature_bad) AS temperature_bad,
         count_if(coalesce(fuel_price, '') IN ('', 'NA')) AS fuel_price_missing, count_if(fuel_price_bad) AS fuel_price_bad,
         count_if(coalesce(markdown1, '') IN ('', 'NA')) AS markdown1_missing, count_if(markdown1_bad) AS markdown1_bad,
         count_if(coalesce(markdown2, '') IN ('', 'NA')) AS markdown2_missing, count_if(markdown2_bad) AS markdown2_bad,
         count_if(coalesce(markdown3, '') IN ('', 'NA')) AS markdown3_missing, count_if(markdown3_bad) AS markdown3_bad,
         count_if(coalesce(markdown4, '') IN ('', 'NA')) AS markdown4_missing, count_if(markdown4_bad) AS markdown4_bad,
         count_if(coalesce(markdown5, '') IN ('', 'NA')) AS markdown5_missing, count_if(markdown5_bad) AS markdown5_bad,
         count_if(coalesce(cpi, '') IN ('', 'NA')) AS cpi_missing, count_if(cpi_bad) AS cpi_bad,
         count_if(coalesce(unemployment, '') IN ('', 'NA')) AS unemployment_missing, count_if(unemployment_bad) AS unemployment_bad
  FROM features_f
),
stores_counts AS (
  SELECT count(*) AS total,
         count_if(coalesce(store, '') IN ('', 'NA')) AS store_missing, count_if(store_bad) AS store_bad,
         count_if(coalesce(store_type, '') IN ('', 'NA')) AS type_missing, count_if(type_bad) AS type_bad,
         count_if(coalesce(size_raw, '') IN ('', 'NA')) AS size_missing, count_if(size_bad) AS size_bad
  FROM stores_f
),
column_stats AS (
  SELECT 'sales' AS dataset, 'Store' AS column_name, total, store_missing AS missing_count, store_bad AS bad_count FROM sales_counts
  UNION ALL SELECT 'sales', 'Dept', total, dept_missing, dept_bad FROM sales_counts
  UNION ALL SELECT 'sales', 'Date', total, date_missing, date_bad FROM sales_counts
  UNION ALL SELECT 'sales', 'Weekly_Sales', total, sales_missing, sales_bad FROM sales_counts
  UNION ALL SELECT 'sales', 'IsHoliday', total, holiday_missing, holiday_bad FROM sales_counts
  UNION ALL SELECT 'features', 'Store', total, store_missing, store_bad FROM features_counts
  UNION ALL SELECT 'features', 'Date', total, date_missing, date_bad FROM features_counts
  UNION ALL SELECT 'features', 'IsHoliday', total, holiday_missing, holiday_bad FROM features_counts
  UNION ALL SELECT 'features', 'Temperature', total, temperature_missing, temperature_bad FROM features_counts
  UNION ALL SELECT 'features', 'Fuel_Price', total, fuel_price_missing, fuel_price_bad FROM features_counts
  UNION ALL SELECT 'features', 'MarkDown1', total, markdown1_missing, markdown1_bad FROM features_counts
  UNION ALL SELECT 'features', 'MarkDown2', total, markdown2_missing, markdown2_bad FROM features_counts
  UNION ALL SELECT 'features', 'MarkDown3', total, markdown3_missing, markdown3_bad FROM features_counts
  UNION ALL SELECT 'features', 'MarkDown4', total, markdown4_missing, markdown4_bad FROM features_counts
  UNION ALL SELECT 'features', 'MarkDown5', total, markdown5_missing, markdown5_bad FROM features_counts
  UNION ALL SELECT 'features', 'CPI', total, cpi_missing, cpi_bad FROM features_counts
  UNION ALL SELECT 'features', 'Unemployment', total, unemployment_missing, unemployment_bad FROM features_counts
  UNION ALL SELECT 'stores', 'Store', total, store_missing, store_bad FROM stores_counts
  UNION ALL SELECT 'stores', 'Type', total, type_missing, type_bad FROM stores_counts
  UNION ALL SELECT 'stores', 'Size', total, size_missing, size_bad FROM stores_counts
),
-- Only the (rare) bad values are unpivoted, for examples.
bad_cells AS (
  SELECT 'sales' AS dataset, 'Store' AS column_name, store AS raw FROM sales_f WHERE store_bad
  UNION ALL SELECT 'sales', 'Dept', dept FROM sales_f WHERE dept_bad
  UNION ALL SELECT 'sales', 'Date', date_raw FROM sales_f WHERE date_bad
  UNION ALL SELECT 'sales', 'Weekly_Sales', sales_raw FROM sales_f WHERE sales_bad
  UNION ALL SELECT 'sales', 'IsHoliday', holiday_raw FROM sales_f WHERE holiday_bad
  UNION ALL SELECT 'features', 'Store', store FROM features_f WHERE store_bad
  UNION ALL SELECT 'features', 'Date', date_raw FROM features_f WHERE date_bad
  UNION ALL SELECT 'features', 'IsHoliday', holiday_raw FROM features_f WHERE holiday_bad
  UNION ALL SELECT 'features', 'Temperature', temperature FROM features_f WHERE temperature_bad
  UNION ALL SELECT 'features', 'Fuel_Price', fuel_price FROM features_f WHERE fuel_price_bad
  UNION ALL SELECT 'features', 'MarkDown1', markdown1 FROM features_f WHERE markdown1_bad
  UNION ALL SELECT 'features', 'MarkDown2', markdown2 FROM features_f WHERE markdown2_bad
  UNION ALL SELECT 'features', 'MarkDown3', markdown3 FROM features_f WHERE markdown3_bad
  UNION ALL SELECT 'features', 'MarkDown4', markdown4 FROM features_f WHERE markdown4_bad
  UNION ALL SELECT 'features', 'MarkDown5', markdown5 FROM features_f WHERE markdown5_bad
  UNION ALL SELECT 'features', 'CPI', cpi FROM features_f WHERE cpi_bad
  UNION ALL SELECT 'features', 'Unemployment', unemployment FROM features_f WHERE unemployment_bad
  UNION ALL SELECT 'stores', 'Store', store FROM stores_f WHERE store_bad
  UNION ALL SELECT 'stores', 'Type', store_type FROM stores_f WHERE type_bad
  UNION ALL SELECT 'stores', 'Size', size_raw FROM stores_f WHERE size_bad
),
bad_values AS (
  SELECT dataset, column_name, coalesce(raw, '<empty>') AS raw, count(*) AS n FROM bad_cells
  GROUP BY dataset, column_name, coalesce(raw, '<empty>')
),
bad_examples AS (
  SELECT dataset, column_name, array_join(array_agg('''' || raw || ''' (' || CAST(n AS varchar) || ' rows)' ORDER BY n DESC, raw), '; ') AS examples
  FROM (SELECT *, row_number() OVER (PARTITION BY dataset, column_name ORDER BY n DESC, raw) AS rn FROM bad_values) t
  WHERE rn <= 5 GROUP BY dataset, column_name
),
sales_keys AS (
  SELECT store, dept, date_raw, count(*) AS n FROM sales GROUP BY store, dept, date_raw HAVING count(*) > 1
),
feature_keys AS (
  SELECT store, date_raw, count(*) AS n FROM features GROUP BY store, date_raw HAVING count(*) > 1
),
store_keys AS (
  SELECT store, count(*) AS n FROM stores GROUP BY store HAVING count(*) > 1
),
sales_dates AS (
  SELECT DISTINCT sale_date FROM sales_p WHERE sale_date IS NOT NULL
),
date_bounds AS (
  SELECT min(sale_date) AS first_date, max(sale_date) AS last_date, count(*) AS weeks FROM sales_dates
),
off_cadence AS (
  SELECT d.sale_date FROM sales_dates d CROSS JOIN date_bounds b WHERE date_diff('day', b.first_date, d.sale_date) % 7 <> 0
),
unmatched_sales AS (
  SELECT s.store_n, s.sale_date, count(*) AS n
  FROM sales_p s
  LEFT JOIN (SELECT DISTINCT store_n, feature_date FROM features_p) f ON f.store_n = s.store_n AND f.feature_date = s.sale_date
  WHERE s.store_n IS NOT NULL AND s.sale_date IS NOT NULL AND f.store_n IS NULL
  GROUP BY s.store_n, s.sale_date
),
orphan_stores AS (
  SELECT u.store_n FROM (SELECT store_n FROM sales_p UNION SELECT store_n FROM features_p) u
  LEFT JOIN (SELECT DISTINCT try_cast(store AS integer) AS store_n FROM stores) s ON s.store_n = u.store_n
  WHERE u.store_n IS NOT NULL AND s.store_n IS NULL
),
holiday_mismatch AS (
  SELECT count(*) AS n FROM sales_p s
  JOIN (SELECT store_n, feature_date, min(holiday_raw) AS holiday_raw FROM features_p GROUP BY store_n, feature_date) f
    ON f.store_n = s.store_n AND f.feature_date = s.sale_date
  WHERE s.holiday_raw <> f.holiday_raw
),
measurements AS (
  SELECT 'rows' AS metric, 'sales' AS dataset, CAST(NULL AS varchar) AS column_name, CAST(count(*) AS double) AS value, CAST(NULL AS varchar) AS examples FROM sales
  UNION ALL SELECT 'rows', 'features', NULL, CAST(count(*) AS double), NULL FROM features
  UNION ALL SELECT 'rows', 'stores', NULL, CAST(count(*) AS double), NULL FROM stores
  UNION ALL SELECT 'unparsable', c.dataset, c.column_name, CAST(c.bad_count AS double), e.examples
    FROM column_stats c LEFT JOIN bad_examples e ON e.dataset = c.dataset AND e.column_name = c.column_name
  UNION ALL SELECT 'null_rate', dataset, column_name, CAST(missing_count AS double) / total, NULL FROM column_stats
  UNION ALL SELECT 'duplicate_keys', 'sales', 'Store,Dept,Date', CAST(coalesce(sum(n - 1), 0) AS double),
    array_join(slice(array_agg('Store=' || store || ' Dept=' || dept || ' Date=' || date_raw || ' (' || CAST(n AS varchar) || ' rows)' ORDER BY store, dept, date_raw), 1, 5), '; ')
    FROM sales_keys
  UNION ALL SELECT 'duplicate_keys', 'features', 'Store,Date', CAST(coalesce(sum(n - 1), 0) AS double),
    array_join(slice(array_agg('Store=' || store || ' Date=' || date_raw || ' (' || CAST(n AS varchar) || ' rows)' ORDER BY store, date_raw), 1, 5), '; ')
    FROM feature_keys
  UNION ALL SELECT 'duplicate_keys', 'stores', 'Store', CAST(coalesce(sum(n - 1), 0) AS double),
    array_join(slice(array_agg('Store=' || store || ' (' || CAST(n AS varchar) || ' rows)' ORDER BY store), 1, 5), '; ')
    FROM store_keys
  UNION ALL SELECT 'weeks', 'sales', 'Date', CAST(weeks AS double),
    CAST(first_date AS varchar) || '..' || CAST(last_date AS varchar) FROM date_bounds
  UNION ALL SELECT 'missing_weeks', 'sales', 'Date',
    coalesce(floor(date_diff('day', first_date, last_date) / 7e0) + 1 - weeks, 0), NULL FROM date_bounds
  UNION ALL SELECT 'off_cadence_dates', 'sales', 'Date', CAST(count(*) AS double),
    array_join(slice(array_agg(CAST(sale_date AS varchar) ORDER BY sale_date), 1, 5), '; ') FROM off_cadence
  UNION ALL SELECT 'sales_without_features', 'sales', 'Store,Date', CAST(coalesce(sum(n), 0) AS double),
    array_join(slice(array_agg('Store=' || CAST(store_n AS varchar) || ' Date=' || CAST(sale_date AS varchar) ORDER BY store_n, sale_date), 1, 5), '; ')
    FROM unmatched_sales
  UNION ALL SELECT 'stores_without_attributes', 'stores', 'Store', CAST(count(*) AS double),
    array_join(slice(array_agg('Store=' || CAST(store_n AS varchar) ORDER BY store_n), 1, 5), '; ') FROM orphan_stores
  UNION ALL SELECT 'negative_sales', 'sales', 'Weekly_Sales', CAST(count_if(sales < 0) AS double), NULL FROM sales_p
  UNION ALL SELECT 'zero_sales', 'sales', 'Weekly_Sales', CAST(count_if(sales = 0) AS double), NULL FROM sales_p
  UNION ALL SELECT 'holiday_mismatch', 'sales', 'IsHoliday', CAST(n AS double), NULL FROM holiday_mismatch
)
SELECT metric, dataset, column_name, value, examples FROM measurements
ORDER BY metric, dataset, column_name
