#include "jobs/jobcontext.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "modelfilterproxy.h"
#include "modeltreemodel.h"
#include "testdata.h"

#include <QAbstractItemModelTester>
#include <QColor>
#include <QFont>
#include <QSignalSpy>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

namespace {
std::map<std::string, TensorStats> allStats(const ModelHandle &model)
{
    TensorStatsCache cache;
    JobContext job;
    computeAllTensorStats(model, cache, job);
    return cache.snapshot();
}

QStringList childNames(const QAbstractItemModel &m, const QModelIndex &parent)
{
    QStringList names;
    for (int r = 0; r < m.rowCount(parent); ++r)
        names << m.index(r, 0, parent).data().toString();
    return names;
}
} // namespace

class TestModelTreeModel : public QObject
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

    void passesModelTester()
    {
        ModelTreeModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setModel(m_model);
        model.setStats(allStats(*m_model));
        model.setModel(nullptr);
        model.setModel(m_model);
    }

    void proxyPassesModelTester()
    {
        ModelTreeModel model;
        ModelFilterProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setModel(m_model);
        proxy.sort(ModelTreeModel::Parameters, Qt::DescendingOrder);
        proxy.setFilterFixedString(QStringLiteral("q_proj"));
        model.setStats(allStats(*m_model));
        proxy.setFilterFixedString(QString());
    }

    void structure()
    {
        ModelTreeModel model;
        model.setModel(m_model);
        // Tied embeddings: no LM head; llama2.c has no stray tensors: no Other.
        QCOMPARE(childNames(model, {}),
            QStringList({"Embedding", "Block 0", "Block 1", "Block 2", "Block 3", "Block 4", "Final norm"}));
        const QModelIndex block2 = model.index(3, 0);
        QCOMPARE(childNames(model, block2), QStringList({"Attention", "MLP"}));
        const QStringList attention = childNames(model, model.index(0, 0, block2));
        QCOMPARE(attention.size(), 5);
        QCOMPARE(attention.front(), QStringLiteral("model.layers.2.input_layernorm.weight"));
        const QStringList mlp = childNames(model, model.index(1, 0, block2));
        QCOMPARE(mlp.size(), 4);
        QCOMPARE(mlp.front(), QStringLiteral("model.layers.2.post_attention_layernorm.weight"));
        QCOMPARE(childNames(model, model.index(0, 0)), QStringList({"model.embed_tokens.weight"}));
    }

    void totals_data()
    {
        QTest::addColumn<QString>("group");
        QTest::addColumn<qulonglong>("parameters");
        QTest::addColumn<QString>("parametersText");
        QTest::addColumn<QString>("bytesText");
        // dim 64, hidden 172, 8 heads, 4 kv heads, vocab 512: the numbers follow from the header.
        QTest::newRow("embedding") << "Embedding" << 32768ull << "32,768"
                                   << "128.00 KiB";
        QTest::newRow("a block") << "Block 0" << 45440ull << "45,440"
                                 << "177.50 KiB";
        QTest::newRow("attention: norm + q k v o") << "Block 0/Attention" << 12352ull << "12,352"
                                                   << "48.25 KiB";
        QTest::newRow("mlp: norm + gate up down") << "Block 0/MLP" << 33088ull << "33,088"
                                                  << "129.25 KiB";
        QTest::newRow("final norm") << "Final norm" << 64ull << "64"
                                    << "256 B";
    }
    void totals()
    {
        QFETCH(QString, group);
        QFETCH(qulonglong, parameters);
        QFETCH(QString, parametersText);
        QFETCH(QString, bytesText);
        ModelTreeModel model;
        model.setModel(m_model);
        const QModelIndex index = model.indexForGroup(group.split(QLatin1Char('/')));
        QVERIFY(index.isValid());
        QCOMPARE(
            index.siblingAtColumn(ModelTreeModel::Parameters).data(ModelTreeModel::SortRole).toULongLong(), parameters);
        QCOMPARE(index.siblingAtColumn(ModelTreeModel::Parameters).data().toString(), parametersText);
        QCOMPARE(index.siblingAtColumn(ModelTreeModel::Bytes).data().toString(), bytesText);
    }

    void topLevelSumsToModel()
    {
        ModelTreeModel model;
        model.setModel(m_model);
        qulonglong params = 0, bytes = 0;
        for (int r = 0; r < model.rowCount(); ++r) {
            params += model.index(r, ModelTreeModel::Parameters).data(ModelTreeModel::SortRole).toULongLong();
            bytes += model.index(r, ModelTreeModel::Bytes).data(ModelTreeModel::SortRole).toULongLong();
        }
        QCOMPARE(params, 260032ull);
        QCOMPARE(bytes, qulonglong(m_model->totalBytes()));
    }

    void tensorColumns()
    {
        ModelTreeModel model;
        model.setModel(m_model);
        const QModelIndex q = model.indexForTensor(QStringLiteral("model.layers.0.self_attn.q_proj.weight"));
        QVERIFY(q.isValid());
        QCOMPARE(q.parent().data().toString(), QStringLiteral("Attention"));
        QCOMPARE(q.siblingAtColumn(ModelTreeModel::Shape).data().toString(), QStringLiteral("64 \u00d7 64"));
        QCOMPARE(q.siblingAtColumn(ModelTreeModel::DType).data().toString(), QStringLiteral("F32"));
        QCOMPARE(q.siblingAtColumn(ModelTreeModel::Parameters).data().toString(), QStringLiteral("4,096"));
        QCOMPARE(q.siblingAtColumn(ModelTreeModel::Bytes).data().toString(), QStringLiteral("16.00 KiB"));
        QVERIFY(!q.siblingAtColumn(ModelTreeModel::Mean).data().isValid()); // no statistics yet
        QVERIFY(model.tensor(q));
        QVERIFY(!model.tensor(q.parent()));
    }

    void statsFillIn()
    {
        ModelTreeModel model;
        model.setModel(m_model);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        const auto stats = allStats(*m_model);
        model.setStats(stats);
        QVERIFY(changed.count() > 0);
        const QModelIndex q = model.indexForTensor(QStringLiteral("model.layers.0.self_attn.q_proj.weight"));
        const TensorStats &s = stats.at("model.layers.0.self_attn.q_proj.weight");
        QCOMPARE(q.siblingAtColumn(ModelTreeModel::Mean).data(ModelTreeModel::SortRole).toDouble(), s.mean);
        QCOMPARE(q.siblingAtColumn(ModelTreeModel::L2).data(ModelTreeModel::SortRole).toDouble(), s.l2);
        QCOMPARE(q.siblingAtColumn(ModelTreeModel::NanInf).data().toString(), QStringLiteral("0 / 0"));
        // Groups combine their tensors: a block's L2 is the norm over all of its values.
        const QModelIndex block = model.indexForGroup({QStringLiteral("Block 0")});
        double sumSq = 0;
        for (int role : {0, 1})
            for (int r = 0; r < model.rowCount(model.index(role, 0, block)); ++r) {
                const auto *t = model.tensor(model.index(r, 0, model.index(role, 0, block)));
                sumSq += stats.at(t->name).l2 * stats.at(t->name).l2;
            }
        QVERIFY(
            qAbs(block.siblingAtColumn(ModelTreeModel::L2).data(ModelTreeModel::SortRole).toDouble() - std::sqrt(sumSq))
            < 1e-9);
    }

    void partialStatsLeaveGroupsEmpty()
    {
        ModelTreeModel model;
        model.setModel(m_model);
        auto stats = allStats(*m_model);
        stats.erase("model.layers.1.mlp.down_proj.weight");
        model.setStats(stats);
        QVERIFY(
            !model.indexForGroup({QStringLiteral("Block 1")}).siblingAtColumn(ModelTreeModel::Mean).data().isValid());
        QVERIFY(model.indexForGroup({QStringLiteral("Block 1"), QStringLiteral("Attention")})
                    .siblingAtColumn(ModelTreeModel::Mean)
                    .data()
                    .isValid());
    }

    void filterKeepsAncestors_data()
    {
        QTest::addColumn<QString>("filter");
        QTest::addColumn<int>("topLevelRows");
        QTest::addColumn<int>("tensorRows");
        QTest::newRow("one projection in every block") << "q_proj" << 5 << 5;
        QTest::newRow("case-insensitive") << "Q_PROJ" << 5 << 5;
        QTest::newRow("a group keeps all its tensors") << "Block 3" << 1 << 9;
        QTest::newRow("norms everywhere") << "norm" << 6 << 11;
        QTest::newRow("nothing") << "no such tensor" << 0 << 0;
    }
    void filterKeepsAncestors()
    {
        QFETCH(QString, filter);
        QFETCH(int, topLevelRows);
        QFETCH(int, tensorRows);
        ModelTreeModel model;
        model.setModel(m_model);
        ModelFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setFilterFixedString(filter);
        QCOMPARE(proxy.rowCount(), topLevelRows);
        int tensors = 0;
        std::function<void(const QModelIndex &)> count = [&](const QModelIndex &parent) {
            for (int r = 0; r < proxy.rowCount(parent); ++r) {
                const QModelIndex i = proxy.index(r, 0, parent);
                if (i.data(ModelTreeModel::KindRole).toInt() == int(ModelTree::Kind::Tensor))
                    ++tensors;
                count(i);
            }
        };
        count({});
        QCOMPARE(tensors, tensorRows);
    }

    void sortsNumerically()
    {
        ModelTreeModel model;
        model.setModel(m_model);
        ModelFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.sort(ModelTreeModel::Parameters, Qt::DescendingOrder);
        // Blocks (45,440) before the embedding (32,768) before the final norm (64): by value, not text.
        QCOMPARE(proxy.index(0, 0).data().toString().left(5), QStringLiteral("Block"));
        QCOMPARE(proxy.index(5, 0).data().toString(), QStringLiteral("Embedding"));
        QCOMPARE(proxy.index(6, 0).data().toString(), QStringLiteral("Final norm"));
        proxy.sort(-1);
        QCOMPARE(proxy.index(0, 0).data().toString(), QStringLiteral("Embedding"));
    }

    void unitsOfGroupRows_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("kind"); // -1: no unit
        QTest::addColumn<int>("layer");
        QTest::newRow("block") << "Block 3" << int(UnitKind::Block) << 3;
        QTest::newRow("attention") << "Block 0/Attention" << int(UnitKind::Attention) << 0;
        QTest::newRow("mlp") << "Block 4/MLP" << int(UnitKind::Mlp) << 4;
        QTest::newRow("embedding") << "Embedding" << -1 << 0;
        QTest::newRow("final norm") << "Final norm" << -1 << 0;
    }
    void unitsOfGroupRows()
    {
        QFETCH(QString, path);
        QFETCH(int, kind);
        QFETCH(int, layer);
        ModelTreeModel model;
        model.setModel(m_model);
        const QModelIndex index = model.indexForGroup(path.split(QLatin1Char('/')));
        QVERIFY(index.isValid());
        const auto unit = model.unitAt(index);
        QCOMPARE(unit.has_value(), kind >= 0);
        if (unit) {
            QCOMPARE(int(unit->kind), kind);
            QCOMPARE(unit->layer, layer);
        }
        // Tensors are not units.
        QVERIFY(!model.unitAt(model.indexForTensor(QStringLiteral("model.layers.1.mlp.up_proj.weight"))));
        QVERIFY(!model.unitAt(QModelIndex()));
    }

    void switchedOffUnitsStruckThrough()
    {
        ModelTreeModel model;
        model.setModel(m_model);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        UnitMask mask = UnitMask::dense(5);
        mask.skipAttn[1] = true;
        mask.skipBlock(3);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setSwitchedOff(mask);
        QVERIFY(changed.count() > 0);
        auto struck = [&](const QString &path) {
            return model.indexForGroup(path.split(QLatin1Char('/'))).data(Qt::FontRole).value<QFont>().strikeOut();
        };
        QVERIFY(struck(QStringLiteral("Block 1/Attention")));
        QVERIFY(!struck(QStringLiteral("Block 1/MLP")));
        QVERIFY(!struck(QStringLiteral("Block 1")));
        QVERIFY(struck(QStringLiteral("Block 3")));
        QVERIFY(struck(QStringLiteral("Block 3/MLP")));
        QVERIFY(!struck(QStringLiteral("Embedding")));
        QCOMPARE(model.indexForGroup({QStringLiteral("Block 3")}).data(Qt::ForegroundRole).value<QColor>(),
            QColor(Qt::gray));
        model.setSwitchedOff(UnitMask::dense(5));
        QVERIFY(!struck(QStringLiteral("Block 3")));
    }
};

QTEST_MAIN(TestModelTreeModel)
#include "tst_modeltreemodel.moc"
