#include "detailstext.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "testdata.h"

#include <QRegularExpression>
#include <QTest>
#include <QTextDocument>

using namespace blockscope;
using namespace blockscope::views;

namespace {
QString plain(const QString &html)
{
    QTextDocument doc;
    doc.setHtml(html);
    return doc.toPlainText();
}
} // namespace

class TestDetailsText : public QObject
{
    Q_OBJECT
private:
    std::shared_ptr<const ModelHandle> m_model;

private Q_SLOTS:
    void initTestCase()
    {
        BLOCKSCOPE_REQUIRE_DATA(path, "models/stories260K/stories260K.bin");
        m_model = ModelHandle::open(path.toStdString());
    }

    void modelSummary()
    {
        const QString text = plain(modelDetailsHtml(*m_model));
        QVERIFY(text.contains(QStringLiteral("blocks:          5")));
        QVERIFY(text.contains(QStringLiteral("parameters:      260032")));
    }

    void tensorWithoutStats()
    {
        const TensorInfo *t = m_model->find("model.layers.1.mlp.up_proj.weight");
        QVERIFY(t);
        const QString text = plain(tensorDetailsHtml(*m_model, *t, nullptr));
        QVERIFY(text.contains(QStringLiteral("model.layers.1.mlp.up_proj.weight")));
        QVERIFY(text.contains(QStringLiteral("172 \u00d7 64")));
        QVERIFY(text.contains(QStringLiteral("11,008")));
        QVERIFY(text.contains(QStringLiteral("stories260K.bin")));
        QVERIFY(text.contains(QStringLiteral("not computed yet")));
        QVERIFY(text.contains(QStringLiteral("F32 (32 bits per weight)")));
    }

    void tensorWithStats()
    {
        const TensorInfo *t = m_model->find("model.norm.weight");
        TensorStats s;
        s.count = 64;
        s.min = -0.5;
        s.max = 2;
        s.mean = 1;
        s.std = 0.25;
        s.l2 = 8;
        s.zeroFraction = 0.125;
        s.nanCount = 3;
        const QString text = plain(tensorDetailsHtml(*m_model, *t, &s));
        QVERIFY(text.contains(QStringLiteral("-0.5")));
        QVERIFY(text.contains(QStringLiteral("12.50 %")));
        QVERIFY(text.contains(QStringLiteral("3 / 0")));
        QVERIFY(!text.contains(QStringLiteral("not computed")));
    }

    void groupTotals()
    {
        GroupTotals g;
        g.name = QStringLiteral("Block 0 \u203a MLP");
        g.tensorCount = 4;
        g.parameters = 33088;
        g.bytes = 132352;
        g.modelParameters = 260032;
        const QString text = plain(groupDetailsHtml(g, nullptr));
        QVERIFY(text.contains(QStringLiteral("Block 0 \u203a MLP")));
        QVERIFY(text.contains(QStringLiteral("33,088 (12.72 % of the model)")));
        QVERIFY(text.contains(QStringLiteral("129.25 KiB")));
        QVERIFY2(text.contains(QRegularExpression(QStringLiteral("bits per weight\\s+32\\b"))), qPrintable(text));
        g.bytes = 20680; // Q4_1's 5 bits for 33,088 weights
        QVERIFY(plain(groupDetailsHtml(g, nullptr))
                    .contains(QRegularExpression(QStringLiteral("bits per weight\\s+5\\b"))));
    }

    void namesAreEscaped()
    {
        GroupTotals g;
        g.name = QStringLiteral("<b>x</b>");
        QVERIFY(plain(groupDetailsHtml(g, nullptr)).contains(QStringLiteral("<b>x</b>")));
    }
};

QTEST_MAIN(TestDetailsText)
#include "tst_detailstext.moc"
