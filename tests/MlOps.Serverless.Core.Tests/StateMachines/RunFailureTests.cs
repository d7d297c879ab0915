using System.Text.Json.Nodes;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Core.Tests.StateMachines;

/// <summary>
/// The formatter on execution histories as GetExecutionHistory answers an aws-sdk integration (PascalCase members,
/// newest first with ReverseOrder), with the event sequences Step Functions writes for each kind of failure.
/// </summary>
public sealed class RunFailureTests
{
    private const string LambdaCause = """{"errorMessage":"overrides: value \u0027abc\u0027 for tuning.maxJobs is not a whole number","errorType":"InvalidRunRequest","stackTrace":[]}""";

    /// <summary>Builds a history: each event links to <c>previous</c> (an earlier event's id), as AWS's events do.</summary>
    private sealed class History
    {
        private readonly List<JsonObject> _events = [];
        private long Last => _events.Count;

        public long Add(string type, long? previous = null, string? details = null, JsonObject? body = null)
        {
            var e = new JsonObject
            {
                ["Timestamp"] = DateTimeOffset.UnixEpoch.AddSeconds(_events.Count).ToString("O"),
                ["Type"] = type,
                ["Id"] = Last + 1,
                ["PreviousEventId"] = previous ?? Last,
            };
            if (details is not null) e[details] = body ?? new JsonObject();
            _events.Add(e);
            return Last;
        }

        public long Entered(string type, string state, long? previous = null) =>
            Add($"{type}StateEntered", previous, "StateEnteredEventDetails", new JsonObject { ["Name"] = state });

        public long Exited(string type, string state, long previous) =>
            Add($"{type}StateExited", previous, "StateExitedEventDetails", new JsonObject { ["Name"] = state });

        /// <summary>TaskScheduled, TaskStarted and the task's end (TaskFailed, TaskTimedOut or TaskSucceeded).</summary>
        public long Attempt(long previous, string resourceType, string resource, string end, string? error = null, string? cause = null, int? timeoutSeconds = null)
        {
            var scheduled = new JsonObject { ["ResourceType"] = resourceType, ["Resource"] = resource, ["Region"] = "eu-west-1", ["Parameters"] = "{}" };
            if (timeoutSeconds is { } t) scheduled["TimeoutInSeconds"] = t;
            var id = Add("TaskScheduled", previous, "TaskScheduledEventDetails", scheduled);
            id = Add("TaskStarted", id, "TaskStartedEventDetails", new JsonObject { ["ResourceType"] = resourceType, ["Resource"] = resource });
            var details = new JsonObject { ["ResourceType"] = resourceType, ["Resource"] = resource };
            if (error is not null) details["Error"] = error;
            if (cause is not null) details["Cause"] = cause;
            return Add(end, id, end + "EventDetails", details);
        }

        public long Succeeded(string state, long? previous = null)
        {
            var entered = Entered("Task", state, previous);
            return Exited("Task", state, Attempt(entered, "lambda", "invoke", "TaskSucceeded"));
        }

        public long ExecutionFailed(long previous, string error, string? cause)
        {
            var details = new JsonObject { ["Error"] = error };
            if (cause is not null) details["Cause"] = cause;
            return Add("ExecutionFailed", previous, "ExecutionFailedEventDetails", details);
        }

        /// <summary>Newest first, as the notifier asks for them.</summary>
        public IReadOnlyList<JsonNode?> Reversed => _events.AsEnumerable().Reverse().Select(e => (JsonNode?)e.DeepClone()).ToList();
    }

    private static History Started()
    {
        var h = new History();
        h.Add("ExecutionStarted", 0, "ExecutionStartedEventDetails");
        return h;
    }

    [Fact]
    public void A_Lambda_failure_names_the_state_the_error_type_and_the_message_inside_the_escaped_JSON_cause()
    {
        var h = Started();
        var entered = h.Entered("Task", "PrepareRun");
        var failed = h.Attempt(entered, "lambda", "invoke", "TaskFailed", "InvalidRunRequest", LambdaCause);
        h.ExecutionFailed(failed, "InvalidRunRequest", LambdaCause);

        var failure = RunFailure.FromHistory("FAILED", null, null, h.Reversed)!;

        Assert.Equal("Failed at PrepareRun: InvalidRunRequest: overrides: value 'abc' for tuning.maxJobs is not a whole number", failure.Line);
        Assert.Equal(LambdaCause, failure.Cause);
    }

    [Fact]
    public void An_Athena_failure_shows_its_plain_text_cause_on_one_line()
    {
        var h = Started();
        var prepared = h.Succeeded("PrepareRun");
        var entered = h.Entered("Task", "RunQualityQuery", prepared);
        const string cause = "Athena query failed: TYPE_MISMATCH:\n  line 12:5: Cannot cast 'abc' to DOUBLE (Service: Athena; Status Code: 400)";
        var failed = h.Attempt(entered, "athena", "startQueryExecution.sync", "TaskFailed", "States.TaskFailed", cause);
        h.ExecutionFailed(failed, "States.TaskFailed", cause);

        Assert.Equal("Failed at RunQualityQuery: States.TaskFailed: Athena query failed: TYPE_MISMATCH: line 12:5: Cannot cast 'abc' to DOUBLE (Service: Athena; Status Code: 400)",
            RunFailure.FromHistory("FAILED", "States.TaskFailed", cause, h.Reversed)!.Line);
    }

    [Fact]
    public void A_state_that_ran_past_its_TimeoutSeconds_says_so_with_the_limit_Step_Functions_scheduled_it_with()
    {
        var h = Started();
        var prepared = h.Succeeded("PrepareRun");
        var entered = h.Entered("Task", "TrainModel", prepared);
        var timedOut = h.Attempt(entered, "sagemaker", "createTrainingJob.sync", "TaskTimedOut", "States.Timeout", timeoutSeconds: 3600);
        h.ExecutionFailed(timedOut, "States.Timeout", null);

        Assert.Equal("Failed at TrainModel: States.Timeout: the state ran longer than its TimeoutSeconds (3600 s)",
            RunFailure.FromHistory("FAILED", "States.Timeout", null, h.Reversed)!.Line);
    }

    [Fact]
    public void A_retried_task_is_named_once_after_its_last_attempt_failed()
    {
        var h = Started();
        var prepared = h.Succeeded("PrepareRun");
        var entered = h.Entered("Task", "LogTraining", prepared);
        var attempt = entered;
        for (var i = 1; i <= 3; i++)
            attempt = h.Attempt(attempt, "lambda", "invoke", "TaskFailed", "Lambda.ServiceException", $$"""{"errorMessage":"Rate exceeded (attempt {{i}})","errorType":"ServiceException"}""");
        h.ExecutionFailed(attempt, "Lambda.ServiceException", """{"errorMessage":"Rate exceeded (attempt 3)","errorType":"ServiceException"}""");

        var failure = RunFailure.FromHistory("FAILED", null, null, h.Reversed)!;

        Assert.Equal("Failed at LogTraining: Lambda.ServiceException: Rate exceeded (attempt 3)", failure.Line);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_failure_inside_a_Parallel_branch_names_the_branch_state_not_the_Parallel_state(bool parallelFailureLinksToBranch)
    {
        var h = Started();
        var prepared = h.Succeeded("PrepareRun");
        var parallel = h.Entered("Parallel", "SplitData", prepared);
        var started = h.Add("ParallelStateStarted", parallel);
        var train = h.Entered("Task", "SplitTrain", started);
        var test = h.Entered("Task", "SplitTest", started);
        var trainDone = h.Exited("Task", "SplitTrain", h.Attempt(train, "athena", "startQueryExecution.sync", "TaskSucceeded"));
        var testFailed = h.Attempt(test, "athena", "startQueryExecution.sync", "TaskFailed", "States.TaskFailed", "Query exhausted resources at this scale factor");
        var parallelFailed = h.Add("ParallelStateFailed", parallelFailureLinksToBranch ? testFailed : parallel);
        h.ExecutionFailed(parallelFailed, "States.TaskFailed", "Query exhausted resources at this scale factor");
        Assert.True(trainDone > 0);

        Assert.Equal("Failed at SplitTest: States.TaskFailed: Query exhausted resources at this scale factor",
            RunFailure.FromHistory("FAILED", null, null, h.Reversed)!.Line);
    }

    [Fact]
    public void A_timed_out_execution_says_no_state_failed_and_which_state_was_running()
    {
        var h = Started();
        var prepared = h.Succeeded("PrepareRun");
        var entered = h.Entered("Task", "TuneHyperparameters", prepared);
        var scheduled = h.Add("TaskScheduled", entered, "TaskScheduledEventDetails",
            new JsonObject { ["ResourceType"] = "sagemaker", ["Resource"] = "createHyperParameterTuningJob.sync", ["Region"] = "eu-west-1", ["Parameters"] = "{}" });
        h.Add("ExecutionTimedOut", scheduled, "ExecutionTimedOutEventDetails", new JsonObject());

        var failure = RunFailure.FromHistory("TIMED_OUT", null, null, h.Reversed)!;

        Assert.Equal("Timed out at TuneHyperparameters: no state failed; the execution ran longer than its TimeoutSeconds", failure.Line);
        Assert.Equal("TuneHyperparameters", failure.State);
    }

    [Fact]
    public void A_stopped_execution_says_no_state_failed_and_gives_the_reason_the_caller_gave()
    {
        var h = Started();
        var entered = h.Entered("Task", "TrainModel", h.Succeeded("PrepareRun"));
        h.Add("ExecutionAborted", entered, "ExecutionAbortedEventDetails", new JsonObject { ["Error"] = "Manual", ["Cause"] = "wrong data uploaded" });

        Assert.Equal("Stopped at TrainModel: no state failed; the execution was stopped: wrong data uploaded",
            RunFailure.FromHistory("ABORTED", null, null, h.Reversed)!.Line);
    }

    [Fact]
    public void Without_history_the_event_s_error_and_cause_still_give_the_plain_message()
    {
        var failure = RunFailure.FromHistory("FAILED", "InvalidRunRequest", LambdaCause, [])!;

        Assert.Equal($"Failed at {RunFailure.NoState}: InvalidRunRequest: overrides: value 'abc' for tuning.maxJobs is not a whole number", failure.Line);
    }

    [Fact]
    public void A_run_that_succeeded_has_no_failure() =>
        Assert.Null(RunFailure.FromHistory("SUCCEEDED", null, null, []));

    [Theory]
    [InlineData("""{"errorMessage":"value \u0027abc\u0027 is bad","errorType":"InvalidRunRequest","stackTrace":[]}""", "value 'abc' is bad")]
    [InlineData("""{"QueryExecution":{"Status":{"State":"FAILED","StateChangeReason":"Quality (quality.sql) failed:\nline 2"}}}""", "Quality (quality.sql) failed: line 2")]
    [InlineData("""{"TrainingJobStatus":"Failed","FailureReason":"AlgorithmError: bad input"}""", "AlgorithmError: bad input")]
    [InlineData("plain text", "plain text")]
    [InlineData(null, "no cause given")]
    public void A_cause_is_shown_as_the_one_line_message_inside_it(string? cause, string message) =>
        Assert.Equal(message, RunFailure.PlainMessage(cause));
}
