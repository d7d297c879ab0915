-- Evaluation of the batch-transform predictions on the test rows, on the Weekly_Sales scale: the models
-- predict Weekly_Sales / scale, so predictions are multiplied by scale. WMAE weights holiday weeks 5.
-- The naive baseline is the same week last year (0 where the series has no sales 52 weeks earlier).
-- Challenger, champion and naive are scored on the same rows: the test rows the challenger predicted. The
-- champion's predictions exist only when this run scored it; its metrics are NULL unless it predicted every
-- one of those rows. Each partition is filtered by a static equality in WHERE (Athena's injected projection).
WITH challenger AS (
  SELECT record_id, prediction FROM predictions WHERE run_id = '{{run_id}}'
),
champion AS (
  SELECT record_id, prediction FROM champion_predictions WHERE run_id = '{{run_id}}'
),
scored AS (
  SELECT l.weekly_sales AS actual, l.weight, l.naive, p.prediction * l.scale AS predicted,
         c.prediction * l.scale AS champion_predicted
  FROM test_labels l
  JOIN challenger p ON p.record_id = l.record_id
  LEFT JOIN champion c ON c.record_id = l.record_id
  WHERE l.run_id = '{{run_id}}' AND l.attempt = '{{test_labels_attempt}}'
)
SELECT
  sum(weight * abs(actual - predicted)) / sum(weight) AS wmae,
  sqrt(avg((actual - predicted) * (actual - predicted))) AS rmse,
  avg(abs(actual - predicted)) AS mae,
  sum(weight * abs(actual - naive)) / sum(weight) AS naive_wmae,
  sqrt(avg((actual - naive) * (actual - naive))) AS naive_rmse,
  avg(abs(actual - naive)) AS naive_mae,
  count(*) AS "rows",
  CASE WHEN count(champion_predicted) = count(*) THEN sum(weight * abs(actual - champion_predicted)) / sum(weight) END AS champion_wmae,
  CASE WHEN count(champion_predicted) = count(*) THEN sqrt(avg((actual - champion_predicted) * (actual - champion_predicted))) END AS champion_rmse,
  CASE WHEN count(champion_predicted) = count(*) THEN avg(abs(actual - champion_predicted)) END AS champion_mae,
  count(champion_predicted) AS champion_rows
FROM scored
