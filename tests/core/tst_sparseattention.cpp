#include <QTest>

class Placeholder : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void nothingYet() { QSKIP("being written"); }
};

QTEST_GUILESS_MAIN(Placeholder)
#include "tst_sparseattention.moc"
