using System.Globalization;
using System.IO.Compression;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Training.Data;

/// <summary>Whether a channel's objects are gzip-compressed (SageMaker's <c>CompressionType</c>).</summary>
public enum Compression
{
    None,
    Gzip,
}

/// <summary>A CSV channel object does not have the shape SageMaker's XGBoost expects.</summary>
public sealed class InvalidTrainingData(string message) : WorkflowError(message);

/// <summary>
/// Reads XGBoost CSV (no header; label first when labelled) into a <see cref="FeatureMatrix"/>, parsing
/// UTF-8 bytes directly: a 300,000-row channel loads in well under a second.
/// </summary>
public static class CsvMatrixReader
{
    /// <summary>One object of a channel: its name (for error messages) and its raw bytes.</summary>
    public sealed record Part(string Name, Stream Content, Compression Compression);

    /// <param name="labelled">True for train/validation channels (label first), false for transform input.</param>
    /// <param name="weighted">True when the column after the label is the instance weight (the container's <c>csv_weights=1</c>).</param>
    public static FeatureMatrix Read(IEnumerable<Part> parts, bool labelled, bool weighted = false)
    {
        if (weighted && !labelled) throw new ArgumentException("Only labelled channels carry weights.", nameof(weighted));
        var features = new List<float>(1 << 16);
        var labels = new List<float>(1 << 12);
        var weights = new List<float>(weighted ? 1 << 12 : 0);
        var leading = (labelled ? 1 : 0) + (weighted ? 1 : 0);
        var columns = -1;
        var rows = 0;
        foreach (var part in parts)
        {
            var bytes = ReadAll(part);
            var span = bytes.AsSpan();
            var lineNumber = 0;
            while (span.Length > 0)
            {
                var end = span.IndexOf((byte)'\n');
                var line = end < 0 ? span : span[..end];
                span = end < 0 ? [] : span[(end + 1)..];
                lineNumber++;
                if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
                if (line.IsEmpty) continue;

                var fields = 0;
                foreach (var range in line.Split((byte)','))
                {
                    var value = Parse(line[range], part.Name, lineNumber, fields + 1);
                    if (labelled && fields == 0)
                    {
                        if (float.IsNaN(value))
                            throw new InvalidTrainingData($"{part.Name} line {lineNumber}: the label (first column) is empty; XGBoost CSV needs a label on every row.");
                        labels.Add(value);
                    }
                    else if (weighted && fields == 1)
                    {
                        if (!(value >= 0))
                            throw new InvalidTrainingData($"{part.Name} line {lineNumber}: the weight (second column, csv_weights=1) must be a number >= 0.");
                        weights.Add(value);
                    }
                    else
                    {
                        features.Add(value);
                    }
                    fields++;
                }
                var width = fields - leading;
                if (columns < 0) columns = width;
                else if (width != columns)
                    throw new InvalidTrainingData($"{part.Name} line {lineNumber}: {fields} fields, but earlier rows have {columns + leading}.");
                if (columns <= 0)
                    throw new InvalidTrainingData($"{part.Name} line {lineNumber}: no feature columns (labelled = {labelled}, weighted = {weighted}).");
                rows++;
            }
        }
        return new FeatureMatrix(features.ToArray(), labels.ToArray(), rows, Math.Max(columns, 0), weighted ? weights.ToArray() : null);
    }

    private static byte[] ReadAll(Part part)
    {
        using var buffer = new MemoryStream();
        try
        {
            if (part.Compression == Compression.Gzip)
            {
                using var gzip = new GZipStream(part.Content, CompressionMode.Decompress, leaveOpen: true);
                gzip.CopyTo(buffer);
            }
            else
            {
                part.Content.CopyTo(buffer);
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidTrainingData($"{part.Name}: not a gzip stream ({e.Message}); check the channel's CompressionType.");
        }
        return buffer.ToArray();
    }

    private static float Parse(ReadOnlySpan<byte> field, string name, int line, int column)
    {
        if (field.IsEmpty) return float.NaN;
        if (float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        throw new InvalidTrainingData(
            $"{name} line {line} column {column}: '{System.Text.Encoding.UTF8.GetString(field)}' is not a number (XGBoost CSV is numeric, no header).");
    }
}
