using System.Globalization;
using System.Text;
using MlOps.Serverless.Training.Data;

namespace MlOps.Serverless.Training.Tests.Data;

public sealed class CsvMatrixReaderTests
{
    // More than the reader's 4 MiB buffer, so lines cross buffer boundaries.
    private const int Rows = 250_000;

    private static byte[] Csv(Func<int, string> line) =>
        Encoding.UTF8.GetBytes(string.Join("\r\n", Enumerable.Range(0, Rows).Select(line)));

    [Fact]
    public void Channel_larger_than_the_read_buffer_keeps_every_row_and_value()
    {
        var csv = Csv(i => string.Create(CultureInfo.InvariantCulture, $"{i % 7},{(i % 3) + 1},{i}.25,-{i}"));
        Assert.True(csv.Length > 4 << 20);

        var matrix = CsvMatrixReader.Read([new CsvMatrixReader.Part("big.csv", new MemoryStream(csv), Compression.None)], labelled: true, weighted: true);

        Assert.Equal(Rows, matrix.Rows);
        Assert.Equal(2, matrix.Columns);
        Assert.Equal(2 * Rows, matrix.Features.Length);
        for (var i = 0; i < Rows; i += 997)
        {
            Assert.Equal(i % 7, matrix.Labels[i]);
            Assert.Equal((i % 3) + 1, matrix.Weights![i]);
            Assert.Equal((float)(i + 0.25), matrix.Features[2 * i]);
            Assert.Equal(-i, matrix.Features[2 * i + 1]);
        }
        Assert.Equal(-(Rows - 1), matrix.Features[^1]);
    }

    [Fact]
    public void Error_past_the_first_buffer_names_the_right_line()
    {
        var csv = Csv(i => i == Rows - 10 ? "1,x" : "1,2");

        var error = Assert.Throws<InvalidTrainingData>(() =>
            CsvMatrixReader.Read([new CsvMatrixReader.Part("bad.csv", new MemoryStream(csv), Compression.None)], labelled: true));

        Assert.Contains($"bad.csv line {Rows - 9} column 2: 'x' is not a number", error.Message);
    }
}
