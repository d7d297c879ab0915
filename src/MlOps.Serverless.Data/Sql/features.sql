-- Pre-processing, feature engineering and split assignment of one batch, written as Parquet into the folder of the
-- attempt (r{redrive count}/); the split queries read that attempt back. Policies (see docs/data-stages.md):
-- * Weeks are indexed from the Friday 1970-01-02 so that "52 weeks earlier" is integer arithmetic in both engines.
-- * Split: the last {{test_weeks}} sales weeks are test, the {{validation_weeks}} before validation, earlier train;
--   feature weeks after the last sales week (at most 50) are forecast.
-- * No leakage: every row has an origin = the last week whose sales it may see (test: the last validation week,
--   validation: the last train week, forecast: the last sales week, train: a pseudo-random 1..test_weeks weeks
--   earlier so the model learns the same horizons it is scored on). Level features read the origin week only;
--   lag features read weeks >= 50 weeks earlier, which precede the origin for horizons up to 50 weeks.
-- * Label: Weekly_Sales / scale, scale = mean |sales| of the 52 weeks up to the origin (at least 10). This removes
--   the 1000x spread between series (the long tail); the evaluation multiplies predictions by scale again.
--   Training labels are clipped to [-10, 10]; training rows need 13 weeks of history and a scale of $500.
-- * Negative sales (returns) are kept as recorded: they are real, and the evaluation scores recorded Weekly_Sales.
-- * Relative features are rounded to 4 decimals (0.01 % of the series scale) to keep the CSVs small.
-- * Missing numeric inputs become -999 (Athena's TEXTFILE cannot write an empty field; trees split it off).
UNLOAD (
WITH
sales_dates AS (
  SELECT date_raw, sale_date, CAST(floor(date_diff('day', DATE '1970-01-02', sale_date) / 7e0) AS integer) AS wk
  FROM (
    SELECT date_raw, CAST(try(date_parse(trim(date_raw), '%d/%m/%Y')) AS date) AS sale_date
    -- min() rather than DISTINCT: a filter on a grouping key is pushed below the grouping (DuckDB then parsed
    -- every row's date to filter the scan); on an aggregate's result it stays above, on the 143 distinct strings.
    FROM (SELECT min("date") AS date_raw FROM raw_sales WHERE run_id = '{{run_id}}' GROUP BY "date") r
  ) p
  WHERE sale_date IS NOT NULL
),
sales AS (
  SELECT s.store, s.dept, d.sale_date, s.weekly_sales, d.wk
  FROM (
    SELECT try_cast(trim(store) AS integer) AS store, try_cast(trim(dept) AS integer) AS dept, "date" AS date_raw,
           try_cast(trim(weekly_sales) AS double) AS weekly_sales
    FROM raw_sales WHERE run_id = '{{run_id}}'
  ) s
  -- Parse each distinct date string once (143 of them) instead of once per row.
  JOIN sales_dates d ON d.date_raw = s.date_raw
  WHERE s.store IS NOT NULL AND s.dept IS NOT NULL AND s.weekly_sales IS NOT NULL
),
feature_rows AS (
  SELECT store, feature_date, CAST(floor(date_diff('day', DATE '1970-01-02', feature_date) / 7e0) AS integer) AS wk,
         temperature, fuel_price,
         coalesce(markdown1, 0) AS markdown1, coalesce(markdown2, 0) AS markdown2, coalesce(markdown3, 0) AS markdown3,
         coalesce(markdown4, 0) AS markdown4, coalesce(markdown5, 0) AS markdown5,
         CASE WHEN coalesce(markdown1, markdown2, markdown3, markdown4, markdown5) IS NULL THEN 0 ELSE 1 END AS markdown_active,
         cpi, unemployment, is_holiday
  FROM (
    SELECT try_cast(trim(store) AS integer) AS store,
           CAST(try(date_parse(trim("date"), '%d/%m/%Y')) AS date) AS feature_date,
           try_cast(trim(temperature) AS double) AS temperature, try_cast(trim(fuel_price) AS double) AS fuel_price,
           try_cast(trim(markdown1) AS double) AS markdown1, try_cast(trim(markdown2) AS double) AS markdown2,
           try_cast(trim(markdown3) AS double) AS markdown3, try_cast(trim(markdown4) AS double) AS markdown4,
           try_cast(trim(markdown5) AS double) AS markdown5,
           try_cast(trim(cpi) AS double) AS cpi, try_cast(trim(unemployment) AS double) AS unemployment,
           CASE WHEN trim(replace(isholiday, chr(13), '')) = 'TRUE' THEN 1 ELSE 0 END AS is_holiday
    FROM raw_features WHERE run_id = '{{run_id}}'
  ) f
  WHERE store IS NOT NULL AND feature_date IS NOT NULL
),
-- Last known CPI / Unemployment per store: a running count of known values numbers each run of gaps.
feature_groups AS (
  SELECT *,
         count(cpi) OVER (PARTITION BY store ORDER BY wk ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cpi_group,
         count(unemployment) OVER (PARTITION BY store ORDER BY wk ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS unemployment_group
  FROM feature_rows
),
store_weeks AS (
  SELECT store, wk, feature_date, temperature, fuel_price, markdown1, markdown2, markdown3, markdown4, markdown5,
         markdown_active, is_holiday,
         max(cpi) OVER (PARTITION BY store, cpi_group) AS cpi,
         max(unemployment) OVER (PARTITION BY store, unemployment_group) AS unemployment
  FROM feature_groups
),
stores AS (
  SELECT try_cast(trim(store) AS integer) AS store,
         CASE trim(type) WHEN 'A' THEN 0 WHEN 'B' THEN 1 WHEN 'C' THEN 2 END AS store_type,
         try_cast(trim(replace(size, chr(13), '')) AS integer) AS store_size
  FROM raw_stores WHERE run_id = '{{run_id}}'
),
bounds AS (
  SELECT min(wk) AS first_wk, max(wk) AS last_wk,
         max(wk) - {{test_weeks}} + 1 AS test_start, max(wk) - {{test_weeks}} - {{validation_weeks}} + 1 AS validation_start
  FROM sales
),
digits AS (SELECT d FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS t(d)),
-- Every week from the first sales week to the end of the forecast horizon, so that ROWS frames are weeks.
weeks AS (
  SELECT b.first_wk + units.d + 10 * tens.d + 100 * hundreds.d AS wk
  FROM bounds b CROSS JOIN digits units CROSS JOIN digits tens CROSS JOIN digits hundreds
  WHERE units.d + 10 * tens.d + 100 * hundreds.d <= b.last_wk + 50 - b.first_wk
),
series AS (SELECT DISTINCT store, dept FROM sales),
grid AS (
  SELECT s.store, s.dept, w.wk, x.weekly_sales, x.sale_date
  FROM series s CROSS JOIN weeks w
  LEFT JOIN sales x ON x.store = s.store AND x.dept = s.dept AND x.wk = w.wk
),
-- Running sums per series (one cheap window); a frame's sum is the difference of two lagged running sums.
running AS (
  SELECT store, dept, wk, weekly_sales, sale_date,
         sum(coalesce(weekly_sales, 0)) OVER (PARTITION BY store, dept ORDER BY wk ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_sum,
         sum(abs(coalesce(weekly_sales, 0))) OVER (PARTITION BY store, dept ORDER BY wk ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_abs,
         count(weekly_sales) OVER (PARTITION BY store, dept ORDER BY wk ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_count
  FROM grid
),
running_lags AS (
  SELECT store, dept, wk, weekly_sales, sale_date, run_sum, run_abs, run_count,
         lag(run_sum, 4) OVER (PARTITION BY store, dept ORDER BY wk) AS sum_4, lag(run_count, 4) OVER (PARTITION BY store, dept ORDER BY wk) AS count_4,
         lag(run_sum, 8) OVER (PARTITION BY store, dept ORDER BY wk) AS sum_8, lag(run_count, 8) OVER (PARTITION BY store, dept ORDER BY wk) AS count_8,
         lag(run_abs, 52) OVER (PARTITION BY store, dept ORDER BY wk) AS abs_52, lag(run_count, 52) OVER (PARTITION BY store, dept ORDER BY wk) AS count_52,
         lag(run_sum, 50) OVER (PARTITION BY store, dept ORDER BY wk) AS sum_50, lag(run_count, 50) OVER (PARTITION BY store, dept ORDER BY wk) AS count_50,
         lag(run_sum, 52) OVER (PARTITION BY store, dept ORDER BY wk) AS sum_52,
         lag(run_sum, 26) OVER (PARTITION BY store, dept ORDER BY wk) AS sum_26, lag(run_count, 26) OVER (PARTITION BY store, dept ORDER BY wk) AS count_26,
         lag(run_sum, 78) OVER (PARTITION BY store, dept ORDER BY wk) AS sum_78, lag(run_count, 78) OVER (PARTITION BY store, dept ORDER BY wk) AS count_78,
         lag(run_sum, 55) OVER (PARTITION BY store, dept ORDER BY wk) AS sum_55, lag(run_count, 55) OVER (PARTITION BY store, dept ORDER BY wk) AS count_55,
         lag(run_sum, 60) OVER (PARTITION BY store, dept ORDER BY wk) AS sum_60, lag(run_count, 60) OVER (PARTITION BY store, dept ORDER BY wk) AS count_60,
         lag(weekly_sales, 50) OVER (PARTITION BY store, dept ORDER BY wk) AS lag50,
         lag(weekly_sales, 51) OVER (PARTITION BY store, dept ORDER BY wk) AS lag51,
         lag(weekly_sales, 52) OVER (PARTITION BY store, dept ORDER BY wk) AS lag52,
         lag(weekly_sales, 53) OVER (PARTITION BY store, dept ORDER BY wk) AS lag53,
         lag(weekly_sales, 54) OVER (PARTITION BY store, dept ORDER BY wk) AS lag54,
         lag(weekly_sales, 104) OVER (PARTITION BY store, dept ORDER BY wk) AS lag104
  FROM running
),
-- Per series and week: statistics of the weeks up to it (used when the week is a row's origin) and
-- its lag values (used when the week is a row's target week). Means ignore weeks without sales.
history AS (
  SELECT store, dept, wk, weekly_sales, sale_date,
         run_count - coalesce(count_52, 0) AS history_weeks,
         (run_abs - coalesce(abs_52, 0)) / nullif(run_count - coalesce(count_52, 0), 0) AS level52_abs,
         (run_sum - coalesce(sum_8, 0)) / nullif(run_count - coalesce(count_8, 0), 0) AS level8,
         (sum_52 - coalesce(sum_60, 0)) / nullif(count_52 - coalesce(count_60, 0), 0) AS level8_year_ago,
         (run_sum - coalesce(sum_4, 0)) / nullif(run_count - coalesce(count_4, 0), 0) AS level4,
         (run_sum - coalesce(sum_26, 0)) / nullif(run_count - coalesce(count_26, 0), 0) AS level26,
         (sum_52 - coalesce(sum_78, 0)) / nullif(count_52 - coalesce(count_78, 0), 0) AS level26_year_ago,
         lag50, lag51, lag52, lag53, lag54,
         (sum_50 - coalesce(sum_55, 0)) / nullif(count_50 - coalesce(count_55, 0), 0) AS lag52_mean5,
         lag104
  FROM running_lags
),
targets AS (
  SELECT h.*, b.last_wk,
         CASE WHEN h.wk > b.last_wk THEN 'forecast' WHEN h.wk >= b.test_start THEN 'test'
              WHEN h.wk >= b.validation_start THEN 'validation' ELSE 'train' END AS split,
         CASE WHEN h.wk > b.last_wk THEN b.last_wk WHEN h.wk >= b.test_start THEN b.test_start - 1
              WHEN h.wk >= b.validation_start THEN b.validation_start - 1
              ELSE h.wk - 1 - (h.store * 7 + h.dept * 13 + h.wk) % {{test_weeks}} END AS origin
  FROM history h CROSS JOIN bounds b
  WHERE (h.wk <= b.last_wk AND h.weekly_sales IS NOT NULL) OR h.wk > b.last_wk
),
rows_with_origin AS (
  SELECT t.*, o.history_weeks AS origin_history_weeks, greatest(coalesce(o.level52_abs, 0), 10) AS scale,
         o.level8 AS origin_level8, o.level8_year_ago AS origin_level8_year_ago, o.level4 AS origin_level4,
         o.weekly_sales AS origin_sales, o.level26 AS origin_level26, o.level26_year_ago AS origin_level26_year_ago
  FROM targets t
  LEFT JOIN history o ON o.store = t.store AND o.dept = t.dept AND o.wk = t.origin
  -- forecast only series still selling in the last year
  WHERE t.split <> 'forecast' OR coalesce(o.history_weeks, 0) > 0
),
assembled AS (
  SELECT r.*, f.feature_date, f.temperature, f.fuel_price, f.markdown1, f.markdown2, f.markdown3, f.markdown4, f.markdown5,
         f.markdown_active, f.cpi, f.unemployment, f.is_holiday, st.store_type, st.store_size,
         coalesce(r.sale_date, f.feature_date) AS row_date,
         CASE WHEN abs(r.origin_level8_year_ago) >= 1
              THEN least(greatest(r.origin_level8 / r.origin_level8_year_ago, -10), 10) END AS growth,
         CASE WHEN abs(r.origin_level26_year_ago) >= 1
              THEN least(greatest(r.origin_level26 / r.origin_level26_year_ago, -10), 10) END AS growth26
  FROM rows_with_origin r
  JOIN store_weeks f ON f.store = r.store AND f.wk = r.wk
  LEFT JOIN stores st ON st.store = r.store
  -- Train/validation rows need 13 weeks of history at the origin, and come from series selling at least $500 a
  -- week: tiny series are noise in relative terms and weigh nothing in WMAE. Test rows keep every series.
  WHERE r.split IN ('test', 'forecast') OR (coalesce(r.origin_history_weeks, 0) >= 13 AND r.scale >= 500)
),
-- The department's shape across all stores denoises a single series' lag (lags are >= 50 weeks old: no leak).
department_weeks AS (
  SELECT dept, wk, avg(lag52 / scale) AS d_lag52,
         avg((lag52 + origin_level8 - origin_level8_year_ago) / scale) AS d_lag52_adjusted
  FROM assembled GROUP BY dept, wk
),
-- The store's level change over all its departments: a less noisy trend than one series' own.
store_weeks_growth AS (
  SELECT store, wk,
         sum(CASE WHEN origin_level8_year_ago IS NOT NULL THEN origin_level8 END)
           / nullif(sum(CASE WHEN origin_level8 IS NOT NULL THEN origin_level8_year_ago END), 0) AS store_growth,
         sum(CASE WHEN origin_level26_year_ago IS NOT NULL THEN origin_level26 END)
           / nullif(sum(CASE WHEN origin_level26 IS NOT NULL THEN origin_level26_year_ago END), 0) AS store_growth26
  FROM assembled GROUP BY store, wk
)
SELECT
  CAST(a.store AS varchar) || '_' || CAST(a.dept AS varchar) || '_' || CAST(row_date AS varchar) AS record_id,
  a.split,
  row_date AS sale_date,
  weekly_sales,
  -- Winsorised for training only: a series whose first weeks were tiny would otherwise give labels of 500 x scale.
  CASE WHEN a.split IN ('train', 'validation') THEN round(least(greatest(weekly_sales / scale, -10), 10), 5)
       ELSE round(weekly_sales / scale, 5) END AS label,
  CASE WHEN is_holiday = 1 THEN 5 ELSE 1 END AS weight,
  coalesce(lag52, 0e0) AS naive,
  scale,
  a.store, a.dept, coalesce(store_type, -999) AS store_type, coalesce(store_size, -999) AS store_size,
  CAST(year(row_date) AS integer) AS year, CAST(month(row_date) AS integer) AS month, CAST(week(row_date) AS integer) AS week_of_year,
  is_holiday,
  CASE WHEN month(row_date) = 2 AND day(row_date) BETWEEN 6 AND 12 THEN 1 ELSE 0 END AS super_bowl,
  CASE WHEN month(row_date) = 9 AND day(row_date) BETWEEN 5 AND 11 THEN 1 ELSE 0 END AS labor_day,
  CASE WHEN month(row_date) = 11 AND day(row_date) BETWEEN 23 AND 29 THEN 1 ELSE 0 END AS thanksgiving,
  CASE WHEN month(row_date) = 12 AND day(row_date) BETWEEN 25 AND 31 THEN 1 ELSE 0 END AS christmas,
  coalesce(temperature, -999) AS temperature, coalesce(fuel_price, -999) AS fuel_price,
  markdown1, markdown2, markdown3, markdown4, markdown5, markdown_active,
  coalesce(cpi, -999) AS cpi, coalesce(unemployment, -999) AS unemployment,
  CAST(a.wk - origin AS integer) AS horizon,
  round(ln(scale), 5) AS log_scale,
  CAST(coalesce(origin_history_weeks, 0) AS integer) AS history_weeks,
  coalesce(round(lag52 / scale, 4), -999) AS r_lag52,
  coalesce(round(lag51 / scale, 4), -999) AS r_lag51,
  coalesce(round(lag53 / scale, 4), -999) AS r_lag53,
  coalesce(round(lag50 / scale, 4), -999) AS r_lag50,
  coalesce(round(lag54 / scale, 4), -999) AS r_lag54,
  coalesce(round(lag52_mean5 / scale, 4), -999) AS r_lag52_mean5,
  coalesce(round(lag104 / scale, 4), -999) AS r_lag104,
  coalesce(round(origin_level8 / scale, 4), -999) AS r_level8,
  coalesce(round(origin_level8_year_ago / scale, 4), -999) AS r_level8_year_ago,
  coalesce(round(origin_level4 / scale, 4), -999) AS r_level4,
  coalesce(round(origin_sales / scale, 4), -999) AS r_last,
  coalesce(round(growth, 4), -999) AS growth,
  coalesce(round((lag52 + origin_level8 - origin_level8_year_ago) / scale, 4), -999) AS r_lag52_adjusted,
  coalesce(round(d.d_lag52, 4), -999) AS d_lag52,
  coalesce(round(d.d_lag52_adjusted, 4), -999) AS d_lag52_adjusted,
  coalesce(round(least(greatest(g.store_growth, -10), 10), 4), -999) AS store_growth,
  coalesce(round(lag52_mean5 * least(greatest(g.store_growth, 0), 10) / scale, 4), -999) AS r_lag52_store_adjusted,
  coalesce(round(growth26, 4), -999) AS growth26,
  coalesce(round((lag52 + origin_level26 - origin_level26_year_ago) / scale, 4), -999) AS r_lag52_adjusted26,
  coalesce(round(lag52_mean5 * least(greatest(growth26, 0), 10) / scale, 4), -999) AS r_lag52_growth26,
  coalesce(round(least(greatest(g.store_growth26, -10), 10), 4), -999) AS store_growth26,
  coalesce(round(lag52_mean5 * least(greatest(g.store_growth26, 0), 10) / scale, 4), -999) AS r_lag52_store_growth26
FROM assembled a
JOIN department_weeks d ON d.dept = a.dept AND d.wk = a.wk
LEFT JOIN store_weeks_growth g ON g.store = a.store AND g.wk = a.wk
) TO '{{features_uri}}r{{redrive_count}}/' WITH (format = 'PARQUET')
