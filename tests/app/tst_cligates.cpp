// blockscope-cli gates train / gates eval / attention as a user runs them: gate files are written
// and read back, evaluations print per-layer tables and JSON, gates for another model are refused
// with the field at fault, and heatmaps are drawn headlessly.
#include "clirunner.h"
#include "testdata.h"

#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace blockscope::test;

namespace {
CliResult runCli(const QStringList &args)
{
    return runProgram(QStringLiteral(BLOCKSCOPE_CLI), args);
}
} // namespace

class TestCliGates : public QObject
{
    Q_OBJECT
private:
    QString m_model, m_text, m_gates, m_demo;
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        m_model = sharedFile(QStringLiteral("models/stories260K/stories260K.bin"));
        m_text = sharedFile(QStringLiteral("text/tinystories_valid_head.txt"));
        m_demo = sourceDir() + QStringLiteral("/resources/demo-model");
        if (m_model.isEmpty() || m_text.isEmpty())
            QSKIP("stories260K or its text is missing (set BLOCKSCOPE_SHARED_DATA)");
        QVERIFY(m_dir.isValid());
        m_gates = m_dir.filePath(QStringLiteral("s.seergate.safetensors"));
    }

    void train()
    {
        const CliResult r = runCli({QStringLiteral("gates"), QStringLiteral("train"), m_model,
            QStringLiteral("--calib"), m_text, QStringLiteral("--out"), m_gates, QStringLiteral("--steps"),
            QStringLiteral("40"), QStringLiteral("--calib-windows"), QStringLiteral("24"),
            QStringLiteral("--eval-every"), QStringLiteral("20"), QStringLiteral("--held-out"), QStringLiteral("4"),
            QStringLiteral("--print-every"), QStringLiteral("20")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(QFile::exists(m_gates));
        QVERIFY(QFile::exists(m_gates + QStringLiteral(".trainstate.safetensors")));
        QVERIFY2(r.out.contains("step    20"), r.out.constData());
        QVERIFY2(r.out.contains("eval at step 40"), r.out.constData());
        QVERIFY2(r.out.contains("(7680 parameters, block 16, d_g 8)"), r.out.constData());
        QVERIFY2(r.out.contains("held-out KL:"), r.out.constData());
        // Resuming a finished run changes nothing and says so.
        const QByteArray before = [&] {
            QFile f(m_gates);
            f.open(QIODevice::ReadOnly);
            return f.readAll();
        }();
        const CliResult again = runCli({QStringLiteral("gates"), QStringLiteral("train"), m_model,
            QStringLiteral("--calib"), m_text, QStringLiteral("--out"), m_gates, QStringLiteral("--steps"),
            QStringLiteral("40"), QStringLiteral("--calib-windows"), QStringLiteral("24"), QStringLiteral("--held-out"),
            QStringLiteral("4"), QStringLiteral("--resume")});
        QVERIFY2(again.exitCode == 0, again.err.constData());
        QVERIFY2(again.out.contains("resumed"), again.out.constData());
        QFile f(m_gates);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), before);
    }

    void evaluate()
    {
        const CliResult r = runCli({QStringLiteral("gates"), QStringLiteral("eval"), m_model, QStringLiteral("--gates"),
            m_gates, QStringLiteral("--text"), m_text, QStringLiteral("--density"), QStringLiteral("1,0.3"),
            QStringLiteral("--windows"), QStringLiteral("4"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonArray points = QJsonDocument::fromJson(r.out).array();
        QCOMPARE(points.size(), 2);
        const QJsonObject full = points[0].toObject(), sparse = points[1].toObject();
        QVERIFY(std::abs(
                    full[QStringLiteral("perplexity")].toDouble() - full[QStringLiteral("dense_perplexity")].toDouble())
            < 1e-3);
        QCOMPARE(full[QStringLiteral("tile_density")].toDouble(), 1.0);
        QVERIFY(sparse[QStringLiteral("tile_density")].toDouble() < 0.6);
        QCOMPARE(sparse[QStringLiteral("layers")].toArray().size(), 5);
        const double recall = sparse[QStringLiteral("recall_mean")].toDouble();
        QVERIFY(recall > 0.5 && recall < 1.0);
        // The table form, with a baseline.
        const CliResult t = runCli({QStringLiteral("gates"), QStringLiteral("eval"), m_model, QStringLiteral("--text"),
            m_text, QStringLiteral("--density"), QStringLiteral("0.5"), QStringLiteral("--masks"),
            QStringLiteral("static"), QStringLiteral("--windows"), QStringLiteral("2")});
        QVERIFY2(t.exitCode == 0, t.err.constData());
        QVERIFY2(t.out.contains("static, density 0.5"), t.out.constData());
        QVERIFY2(t.out.contains("recall-mean"), t.out.constData());
    }

    void refusesGatesOfAnotherModel()
    {
        const CliResult r = runCli({QStringLiteral("gates"), QStringLiteral("eval"), m_demo, QStringLiteral("--gates"),
            m_gates, QStringLiteral("--text"), m_text, QStringLiteral("--density"), QStringLiteral("0.5")});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(
            r.err.contains("s.seergate.safetensors") && r.err.contains("__metadata__.num_layers"), r.err.constData());
        const CliResult notGates = runCli({QStringLiteral("gates"), QStringLiteral("eval"), m_demo,
            QStringLiteral("--gates"), m_demo + QStringLiteral("/model.safetensors"), QStringLiteral("--text"), m_text,
            QStringLiteral("--density"), QStringLiteral("0.5")});
        QCOMPARE(notGates.exitCode, 3);
        QVERIFY2(notGates.err.contains("not a gate file"), notGates.err.constData());
    }

    void usageErrors()
    {
        const CliResult steps = runCli({QStringLiteral("gates"), QStringLiteral("train"), m_model,
            QStringLiteral("--calib"), m_text, QStringLiteral("--out"), m_dir.filePath(QStringLiteral("x")),
            QStringLiteral("--steps"), QStringLiteral("0")});
        QCOMPARE(steps.exitCode, 2);
        QVERIFY2(steps.err.contains("--steps"), steps.err.constData());
        const CliResult rule = runCli({QStringLiteral("gates"), QStringLiteral("eval"), m_model,
            QStringLiteral("--gates"), m_gates, QStringLiteral("--text"), m_text});
        QCOMPARE(rule.exitCode, 2);
        QVERIFY2(rule.err.contains("--threshold or --density"), rule.err.constData());
        const CliResult layer
            = runCli({QStringLiteral("attention"), m_model, QStringLiteral("--text"), m_text, QStringLiteral("--layer"),
                QStringLiteral("9"), QStringLiteral("--png"), m_dir.filePath(QStringLiteral("x.png"))});
        QCOMPARE(layer.exitCode, 2);
        QVERIFY2(layer.err.contains("--layer 9"), layer.err.constData());
        const CliResult gate = runCli({QStringLiteral("attention"), m_model, QStringLiteral("--text"), m_text,
            QStringLiteral("--layer"), QStringLiteral("1"), QStringLiteral("--map"), QStringLiteral("gate"),
            QStringLiteral("--png"), m_dir.filePath(QStringLiteral("x.png"))});
        QCOMPARE(gate.exitCode, 2);
        QVERIFY2(gate.err.contains("--gates"), gate.err.constData());
    }

    void attentionHeatmap()
    {
        const QString png = m_dir.filePath(QStringLiteral("a.png")), csv = m_dir.filePath(QStringLiteral("a.csv"));
        const CliResult r = runCli({QStringLiteral("attention"), m_model, QStringLiteral("--text"), m_text,
            QStringLiteral("--layer"), QStringLiteral("2"), QStringLiteral("--head"), QStringLiteral("3"),
            QStringLiteral("--gates"), m_gates, QStringLiteral("--density"), QStringLiteral("0.5"),
            QStringLiteral("--png"), png, QStringLiteral("--csv"), csv});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        // The text is longer than the model's 512-token context: cut there.
        QVERIFY2(r.out.contains("512 tokens, 32 x 32 blocks of 16"), r.out.constData());
        QVERIFY2(r.out.contains("attention-mass recall"), r.out.constData());
        QImage image(png);
        QVERIFY(!image.isNull());
        QVERIFY(image.width() > 300 && image.height() > 300);
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        QVERIFY(lines.size() >= 33);
        // Row 0 of the ground truth: only its diagonal block, which holds everything.
        const QList<QByteArray> row0 = lines[1].split(',');
        QCOMPARE(row0[1].toDouble(), 1.0);
        QVERIFY(row0[2].isEmpty()); // above the diagonal
        // A token-level figure as SVG.
        const QString svg = m_dir.filePath(QStringLiteral("t.svg"));
        const CliResult tokens = runCli({QStringLiteral("attention"), m_model, QStringLiteral("--text"), m_text,
            QStringLiteral("--layer"), QStringLiteral("0"), QStringLiteral("--map"), QStringLiteral("tokens"),
            QStringLiteral("--max-tokens"), QStringLiteral("40"), QStringLiteral("--png"), svg});
        QVERIFY2(tokens.exitCode == 0, tokens.err.constData());
        QFile s(svg);
        QVERIFY(s.open(QIODevice::ReadOnly));
        QVERIFY(s.readAll().contains("<svg"));
    }
};

QTEST_GUILESS_MAIN(TestCliGates)
#include "tst_cligates.moc"
