// Reports of experiment files (issue 13): the HTML document holds, for each run, the trace
// chart, the layer map, the steps, the protocol cards, PPA and sweeps, each chart captioned; it
// is self-contained; the chart options apply; the PDF is a real multi-page PDF; bad requests fail
// clearly without touching what was there.
#include "clirunner.h"
#include "report/report.h"
#include "store/experimentfile.h"
#include "testdata.h"

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

using namespace blockscope;
using namespace blockscope::report;

namespace {
// Every inline <svg> of the document, as text.
QStringList svgsOf(const QString &html)
{
    QStringList out;
    for (qsizetype at = html.indexOf(QStringLiteral("<svg ")); at >= 0;
         at = html.indexOf(QStringLiteral("<svg "), at + 1))
        out << html.mid(at, html.indexOf(QStringLiteral("</svg>"), at) + 6 - at);
    return out;
}

bool wellFormed(const QString &xml, QString *error)
{
    QXmlStreamReader r(xml);
    while (!r.atEnd())
        r.readNext();
    if (r.hasError())
        *error = r.errorString();
    return !r.hasError();
}
} // namespace

class TestReport : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_file; // a real experiment: SLEB with PPA points, FinerCut, EvoPress, and a sparsity sweep

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString demo = test::sourceDir() + QStringLiteral("/resources/demo-model");
        const QString text = test::sharedFile(QStringLiteral("text/tinyshakespeare.txt"));
        if (text.isEmpty())
            QSKIP("test data text/tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        m_file = m_dir.filePath(QStringLiteral("report.h5"));
        const auto cli = [&](const QStringList &args) {
            const auto r = test::runProgram(QStringLiteral(BLOCKSCOPE_CLI), args, 600000);
            if (r.exitCode != 0)
                qWarning("%s", r.err.constData());
            return r.exitCode == 0;
        };
        const QStringList common{QStringLiteral("--calib"), text, QStringLiteral("--out"), m_file,
            QStringLiteral("--eval-windows"), QStringLiteral("2"), QStringLiteral("--quiet")};
        QVERIFY(cli(QStringList{QStringLiteral("prune"), demo, QStringLiteral("--method"), QStringLiteral("sleb"),
                        QStringLiteral("--target"), QStringLiteral("2"), QStringLiteral("--calib-windows"),
                        QStringLiteral("2"), QStringLiteral("--ppa")}
            + common));
        QVERIFY(cli(QStringList{QStringLiteral("prune"), demo, QStringLiteral("--method"), QStringLiteral("finercut"),
                        QStringLiteral("--target"), QStringLiteral("3"), QStringLiteral("--calib-windows"),
                        QStringLiteral("2"), QStringLiteral("--no-eval")}
            + common));
        QVERIFY(cli(
            QStringList{QStringLiteral("prune"), demo, QStringLiteral("--method"), QStringLiteral("evopress"),
                QStringLiteral("--target"), QStringLiteral("2"), QStringLiteral("--generations"), QStringLiteral("2")}
            + common));
        QVERIFY(cli({QStringLiteral("gates"), QStringLiteral("eval"), demo, QStringLiteral("--text"), text,
            QStringLiteral("--masks"), QStringLiteral("static"), QStringLiteral("--density"), QStringLiteral("0.3,0.6"),
            QStringLiteral("--windows"), QStringLiteral("1"), QStringLiteral("--experiment"), m_file}));
    }

    void htmlHoldsEverySection()
    {
        const Experiment e = ExperimentFile::read(m_file.toStdString());
        QCOMPARE(e.runs.size(), std::size_t(3));
        QCOMPARE(e.sweeps.size(), std::size_t(1));
        const QString html = QString::fromStdString(reportHtml(m_file.toStdString(), e, {}));
        for (const char *id : {"run-0001", "run-0002", "run-0003", "sweep-0001"})
            QVERIFY2(html.contains(QStringLiteral("<h2 id=\"%1\">").arg(QLatin1String(id))), id);
        // Per run: trace, layer map; run-0001 also the PPA frontier and block shares; the sweep one.
        const QStringList svgs = svgsOf(html);
        QCOMPARE(svgs.size(), 3 * 2 + 2 + 1);
        QCOMPARE(html.count(QStringLiteral("<figcaption>")), svgs.size());
        QString error;
        for (const QString &svg : svgs)
            QVERIFY2(wellFormed(svg, &error), qPrintable(error));
        QCOMPARE(html.count(QStringLiteral("<h3>Steps</h3>")), 3);
        QCOMPARE(html.count(QStringLiteral("<pre class=\"card\">")), 3 * 2 - 1 + 1); // FinerCut: no evaluation card
        // Captions say what is measured and what modelled, and name the protocol.
        QVERIFY(
            html.contains(QStringLiteral("measured by Blockscope's forward on the evaluation windows under tiny-ts")));
        QVERIFY(html.contains(QStringLiteral("searched without per-step evaluation"))); // FinerCut plots its score
        QVERIFY(
            html.contains(QStringLiteral("prefill FLOPs per token of")) && html.contains(QStringLiteral("modelled")));
        QVERIFY(html.contains(QStringLiteral("Pareto-optimal")));
        // Self-contained: no scripts, nothing fetched (the SVG namespace is a name, not a fetch).
        QVERIFY(!html.contains(QStringLiteral("<script")));
        QVERIFY(!html.contains(QRegularExpression(QStringLiteral("(src|href)=\"(https?:)?//"))));
        QVERIFY(!html.contains(QStringLiteral("url(")));
        // One run only.
        ReportOptions one;
        one.ids = {"run-0002"};
        const QString single = QString::fromStdString(reportHtml(m_file.toStdString(), e, one));
        QVERIFY(
            single.contains(QStringLiteral("id=\"run-0002\"")) && !single.contains(QStringLiteral("id=\"run-0001\"")));
        one.ids = {"run-0009"};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, reportHtml(m_file.toStdString(), e, one));
    }

    void chartOptions()
    {
        ChartStyle s = ChartStyle::sized(16, 8, "cm");
        QCOMPARE(qRound(s.width), qRound(16 / 2.54 * 96));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ChartStyle::sized(16, 8, "in"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ChartStyle::sized(-1, 8, "px"));
        LineChart c;
        c.title = "t <&>";
        c.series = {{"a", {{0, 1}, {1, 2}}, true}, {"b", {{0, 2}, {1, 1}}, true}};
        s.fontScale = 2;
        const QString big = QString::fromStdString(lineChartSvg(c, s));
        QVERIFY(big.contains(QStringLiteral("width=\"604.72\"")));
        QVERIFY(big.contains(QStringLiteral("font-size=\"27.60\""))); // the title: 12 x 2 x 1.15
        QVERIFY(big.contains(QStringLiteral("t &lt;&amp;&gt;")));
        s.theme = ChartStyle::Theme::Dark;
        QVERIFY(QString::fromStdString(lineChartSvg(c, s)).contains(QStringLiteral("fill=\"#1e1e1e\"")));
        s.theme = ChartStyle::Theme::Greyscale;
        const QString grey = QString::fromStdString(lineChartSvg(c, s));
        QVERIFY(grey.contains(QStringLiteral("stroke-dasharray=\"6,3\""))); // series told apart without colour
        QVERIFY(!grey.contains(QStringLiteral("#1f77b4")));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ChartStyle::themeFromName("sepia"));
    }

    void pdfAndHtmlThroughTheCli()
    {
        const QString pdf = m_dir.filePath(QStringLiteral("report.pdf"));
        auto r = test::runProgram(QStringLiteral(BLOCKSCOPE_CLI),
            {QStringLiteral("report"), m_file, QStringLiteral("--format"), QStringLiteral("pdf"),
                QStringLiteral("--out"), pdf, QStringLiteral("--theme"), QStringLiteral("greyscale"),
                QStringLiteral("--dpi"), QStringLiteral("96")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QFile f(pdf);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(bytes.startsWith("%PDF-"));
        const int pages = static_cast<int>(
            bytes.count("/Type /Page\n") + bytes.count("/Type /Page\r") + bytes.count("/Type /Page "));
        qInfo("PDF: %lld bytes, %d pages", static_cast<long long>(bytes.size()), pages);
        QVERIFY(pages >= 3);
        QVERIFY(bytes.count("/Subtype /Image") >= 9); // every chart

        const QString html = m_dir.filePath(QStringLiteral("report.html"));
        r = test::runProgram(QStringLiteral(BLOCKSCOPE_CLI),
            {QStringLiteral("report"), m_file, QStringLiteral("--format"), QStringLiteral("html"),
                QStringLiteral("--out"), html, QStringLiteral("--chart-size"), QStringLiteral("12x6"),
                QStringLiteral("--chart-unit"), QStringLiteral("cm")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QFile h(html);
        QVERIFY(h.open(QIODevice::ReadOnly));
        QVERIFY(h.readAll().contains("width=\"453.54\""));
    }

    void badRequestsKeepWhatWasThere_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("no --out") << QStringList{QStringLiteral("--format"), QStringLiteral("pdf")} << 2
                                  << "needs --out";
        QTest::newRow("wrong suffix") << QStringList{QStringLiteral("--format"), QStringLiteral("pdf"),
            QStringLiteral("--out"), QStringLiteral("KEEP")}
                                      << 2 << "ends in .pdf";
        QTest::newRow("unknown run") << QStringList{QStringLiteral("--format"), QStringLiteral("html"),
            QStringLiteral("--run"), QStringLiteral("run-0009"), QStringLiteral("--out"), QStringLiteral("KEEP.html")}
                                     << 2 << "run-0009";
        QTest::newRow("bad size") << QStringList{QStringLiteral("--format"), QStringLiteral("html"),
            QStringLiteral("--chart-size"), QStringLiteral("12by6"), QStringLiteral("--out"),
            QStringLiteral("KEEP.html")}
                                  << 2 << "WIDTHxHEIGHT";
        QTest::newRow("folder is a file") << QStringList{QStringLiteral("--format"), QStringLiteral("html"),
            QStringLiteral("--out"), QStringLiteral("KEEP.html/report.html")}
                                          << 4 << "cannot write";
    }
    void badRequestsKeepWhatWasThere()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        const QString keep = m_dir.filePath(QStringLiteral("KEEP.html"));
        QFile k(keep);
        QVERIFY(k.open(QIODevice::WriteOnly));
        k.write("mine");
        k.close();
        for (QString &a : args)
            a.replace(QStringLiteral("KEEP"), m_dir.filePath(QStringLiteral("KEEP")));
        const auto r = test::runProgram(
            QStringLiteral(BLOCKSCOPE_CLI), QStringList{QStringLiteral("report"), m_file} + args, 120000);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
        QVERIFY(k.open(QIODevice::ReadOnly));
        QCOMPARE(k.readAll(), QByteArray("mine"));
    }
};

QTEST_MAIN(TestReport)
#include "tst_report.moc"
