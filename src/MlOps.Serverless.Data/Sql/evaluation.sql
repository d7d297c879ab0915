-- Evaluation of the batch-transform predictions on the test rows, on the Weekly_Sales scale: the model
-- predicts Weekly_Sales / scale, so predictions are multiplied by scale. WMAE weights holiday weeks 5.
-- The naive baseline is the same week last year (0 where the series has no sales 52 weeks earlier).
-- Each partition (run_id) is filtered by a static equality in WHERE, where Athena prunes partitions.
WITH scored AS (
  SELECT l.weekly_sales AS actual, l.weight, l.naive, p.prediction * l.scale AS predicted
  FROM test_labels l
  JOIN predictions p ON p.record_id = l.record_id
  WHERE l.run_id = '{{run_id}}' AND p.run_id = '{{run_id}}'
)
SELECT
  sum(weight * abs(actual - predicted)) / sum(weight) AS wmae,
  sqrt(avg((actual - predicted) * (actual - predicted))) AS rmse,
  avg(abs(actual - predicted)) AS mae,
  sum(weight * abs(actual - naive)) / sum(weight) AS naive_wmae,
  sqrt(avg((actual - naive) * (actual - naive))) AS naive_rmse,
  avg(abs(actual - naive)) AS naive_mae,
  count(*) AS "rows"
FROM scored
