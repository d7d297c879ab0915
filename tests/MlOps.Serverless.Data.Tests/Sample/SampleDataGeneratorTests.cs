using System.Globalization;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Sample;

namespace MlOps.Serverless.Data.Tests.Sample;

public class SampleDataGeneratorTests
{
    private static readonly SampleDataSet Default = SampleDataGenerator.Generate();

    [Fact]
    public void The_same_seed_gives_the_same_files_and_another_seed_different_ones()
    {
        Assert.Equal(Default, SampleDataGenerator.Generate());
        Assert.NotEqual(Default.Sales, SampleDataGenerator.Generate(new SampleDataOptions { Seed = 7 }).Sales);
    }

    [Fact]
    public void Files_have_the_real_headers_crlf_and_no_newline_after_the_last_line()
    {
        foreach (var dataset in RawDatasets.All)
        {
            var text = Default.ContentOf(dataset);
            Assert.StartsWith(string.Join(",", dataset.Header) + "\r\n", text);
            Assert.DoesNotContain("\n", text.Replace("\r\n", ""));
            Assert.False(text.EndsWith('\n') || text.EndsWith('\r'));
        }
    }

    [Fact]
    public void Default_size_is_10_stores_by_10_departments_over_143_weeks()
    {
        var rows = Default.Sales.Split("\r\n").Skip(1).Select(l => l.Split(',')).ToList();

        Assert.Equal(10, rows.Select(r => r[0]).Distinct().Count());
        Assert.Equal(10, rows.Select(r => r[1]).Distinct().Count());
        Assert.Equal(143, rows.Select(r => r[2]).Distinct().Count());
        Assert.Equal(10, Default.Stores.Split("\r\n").Length - 1);
        Assert.Equal(10 * (143 + 39), Default.Features.Split("\r\n").Length - 1);
    }

    [Fact]
    public void Dates_are_day_first_fridays_and_holidays_are_the_real_weeks()
    {
        var rows = Default.Sales.Split("\r\n").Skip(1).Select(l => l.Split(',')).ToList();
        var dates = rows.Select(r => DateOnly.ParseExact(r[2], "dd/MM/yyyy", CultureInfo.InvariantCulture)).ToList();

        Assert.All(dates, d => Assert.Equal(DayOfWeek.Friday, d.DayOfWeek));
        Assert.Equal(new DateOnly(2010, 2, 5), dates.Min());
        Assert.Equal(new DateOnly(2012, 10, 26), dates.Max());
        Assert.Contains(rows, r => r[2] == "26/11/2010" && r[4] == "TRUE");
        Assert.All(rows, r => Assert.True(r[4] is "TRUE" or "FALSE"));
        Assert.Equal(10, rows.Where(r => r[4] == "TRUE").Select(r => r[2]).Distinct().Count());
    }

    [Fact]
    public void Markdowns_start_in_november_2011_and_cpi_is_missing_at_the_end()
    {
        var rows = Default.Features.Split("\r\n").Skip(1).Select(l => l.Split(',')).ToList();
        DateOnly Date(string[] r) => DateOnly.ParseExact(r[1], "dd/MM/yyyy", CultureInfo.InvariantCulture);

        Assert.All(rows.Where(r => Date(r) < new DateOnly(2011, 11, 11)), r => Assert.All(r[4..9], v => Assert.Equal("NA", v)));
        Assert.Contains(rows, r => Date(r) >= new DateOnly(2011, 11, 11) && r[4] != "NA");
        var missingCpi = rows.Where(r => r[9] == "NA").ToList();
        Assert.Equal(10 * 13, missingCpi.Count);
        Assert.All(missingCpi, r => Assert.True(Date(r) > new DateOnly(2013, 4, 26)));
        Assert.All(missingCpi, r => Assert.Equal("NA", r[10]));
    }

    [Fact]
    public void Store_types_and_sizes_are_realistic()
    {
        var stores = SampleDataGenerator.Generate(new SampleDataOptions { Stores = 45 }).Stores.Split("\r\n").Skip(1).Select(l => l.Split(',')).ToList();

        Assert.Equal(["A", "B", "C"], stores.Select(s => s[1]).Distinct().Order());
        Assert.All(stores, s => Assert.InRange(int.Parse(s[2], CultureInfo.InvariantCulture), 34_875, 219_622));
    }

    [Fact]
    public void Write_to_uses_the_real_file_names_without_a_byte_order_mark()
    {
        var folder = Path.Combine(Path.GetTempPath(), "mlops-sample-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Default.WriteTo(folder);
            Assert.Equal(["Features data set.csv", "sales data-set.csv", "stores data-set.csv"],
                Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal((byte)'S', File.ReadAllBytes(Path.Combine(folder, "stores data-set.csv"))[0]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
