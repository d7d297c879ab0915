namespace MlOps.Serverless.Infra; public static class Program { public static void Main() { } }
