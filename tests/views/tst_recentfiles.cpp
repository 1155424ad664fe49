#include "recentfiles.h"

#include <QDir>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

using namespace blockscope::gui;

class TestRecentFiles : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pushed_data()
    {
        QTest::addColumn<QStringList>("before");
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("max");
        QTest::addColumn<QStringList>("after");
        QTest::newRow("first entry") << QStringList() << "/m/a.gguf" << 10 << QStringList({"/m/a.gguf"});
        QTest::newRow("newest first") << QStringList({"/m/a.gguf"}) << "/m/b.gguf" << 10
                                      << QStringList({"/m/b.gguf", "/m/a.gguf"});
        QTest::newRow("reopening moves to front")
            << QStringList({"/m/a", "/m/b", "/m/c"}) << "/m/c" << 10 << QStringList({"/m/c", "/m/a", "/m/b"});
        QTest::newRow("same file spelled differently")
            << QStringList({"/m/a"}) << "/m/./x/../a/" << 10 << QStringList({"/m/a"});
        QTest::newRow("oldest falls off")
            << QStringList({"/m/a", "/m/b"}) << "/m/c" << 2 << QStringList({"/m/c", "/m/a"});
    }
    void pushed()
    {
        QFETCH(QStringList, before);
        QFETCH(QString, path);
        QFETCH(int, max);
        QFETCH(QStringList, after);
        QCOMPARE(RecentFiles::pushed(before, path, max), after);
    }

    void persistsInSettings()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("recent.ini"));
        {
            QSettings s(file, QSettings::IniFormat);
            RecentFiles r(s);
            r.add(QStringLiteral("/m/a.gguf"));
            r.add(QStringLiteral("/m/b"));
            r.remove(QStringLiteral("/m/a.gguf"));
        }
        QSettings s(file, QSettings::IniFormat);
        RecentFiles r(s);
        QCOMPARE(r.files(), QStringList({QStringLiteral("/m/b")}));
        r.clear();
        QVERIFY(r.files().isEmpty());
    }

    void relativePathsBecomeAbsolute()
    {
        const QStringList list = RecentFiles::pushed({}, QStringLiteral("model.gguf"));
        QCOMPARE(list.front(), QDir::current().absoluteFilePath(QStringLiteral("model.gguf")));
    }
};

QTEST_GUILESS_MAIN(TestRecentFiles)
#include "tst_recentfiles.moc"
