#include "statsaggregate.h"

#include <QTest>

#include <cmath>
#include <vector>

using namespace blockscope;
using namespace blockscope::views;

namespace {
// Statistics of a list of values the way core defines them, as the reference for pooling.
TensorStats direct(const std::vector<double> &v)
{
    TensorStats s;
    s.count = v.size();
    double sum = 0, sq = 0, zeros = 0, finite = 0;
    s.min = INFINITY;
    s.max = -INFINITY;
    for (double x : v) {
        if (std::isnan(x)) {
            ++s.nanCount;
            continue;
        }
        if (std::isinf(x)) {
            ++s.infCount;
            continue;
        }
        ++finite;
        sum += x;
        sq += x * x;
        zeros += x == 0;
        s.min = std::min(s.min, x);
        s.max = std::max(s.max, x);
    }
    s.mean = sum / finite;
    double m2 = 0;
    for (double x : v)
        if (std::isfinite(x))
            m2 += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(m2 / finite);
    s.l2 = std::sqrt(sq);
    s.zeroFraction = zeros / static_cast<double>(v.size());
    return s;
}
} // namespace

class TestStatsAggregate : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void poolsLikeOneTensor_data()
    {
        QTest::addColumn<QList<double>>("a");
        QTest::addColumn<QList<double>>("b");
        QTest::newRow("equal sizes") << QList<double>{1, 2, 3} << QList<double>{4, 5, 6};
        QTest::newRow("different sizes and means") << QList<double>{-3, 0, 0.5} << QList<double>{10, 11};
        QTest::newRow("zeros counted over all values") << QList<double>{0, 0, 1, 2} << QList<double>{0, 7};
        QTest::newRow("nan and inf excluded from moments") << QList<double>{1, NAN, 3} << QList<double>{INFINITY, 2, 2};
    }
    void poolsLikeOneTensor()
    {
        QFETCH(QList<double>, a);
        QFETCH(QList<double>, b);
        const std::vector<double> va(a.begin(), a.end()), vb(b.begin(), b.end());
        std::vector<double> all = va;
        all.insert(all.end(), vb.begin(), vb.end());
        const TensorStats sa = direct(va), sb = direct(vb), expect = direct(all);
        const auto got = combineStats({&sa, &sb});
        QVERIFY(got);
        QCOMPARE(got->count, expect.count);
        QCOMPARE(got->nanCount, expect.nanCount);
        QCOMPARE(got->infCount, expect.infCount);
        QCOMPARE(got->min, expect.min);
        QCOMPARE(got->max, expect.max);
        QVERIFY(qAbs(got->mean - expect.mean) < 1e-12);
        QVERIFY(qAbs(got->std - expect.std) < 1e-12);
        QVERIFY(qAbs(got->l2 - expect.l2) < 1e-12);
        QVERIFY(qAbs(got->zeroFraction - expect.zeroFraction) < 1e-12);
    }

    void missingMemberMeansNoStats()
    {
        const TensorStats s = direct({1, 2});
        QVERIFY(!combineStats({&s, nullptr}));
        QVERIFY(!combineStats({}));
    }

    void allNonFiniteKeepsNanRange()
    {
        const TensorStats s = direct({NAN, NAN});
        const auto got = combineStats({&s});
        QVERIFY(got);
        QVERIFY(std::isnan(got->min));
        QCOMPARE(got->nanCount, std::uint64_t(2));
    }
};

QTEST_GUILESS_MAIN(TestStatsAggregate)
#include "tst_statsaggregate.moc"
