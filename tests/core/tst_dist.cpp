// Processes that share a search: rendezvous through torchrun's variables, agreement on hashes, sums
// over ranks, and the errors when a rank is missing, disagrees or dies. Rank 1 is this binary run
// again with BLOCKSCOPE_DIST_ROLE set (a QProcess, not a fork, so no thread state is inherited).
#include "dist/processgroup.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

using namespace blockscope::dist;

namespace {

int freePort()
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
    ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

Rendezvous rankZero(int port, int world = 2, int timeoutSeconds = 20)
{
    Rendezvous r;
    r.rank = 0;
    r.world = world;
    r.port = port;
    r.timeout = std::chrono::seconds(timeoutSeconds);
    return r;
}

// Rank 1's side of each test; its exit code says whether what it saw was right.
int runRole(const QByteArray &role)
{
    try {
        auto r = Rendezvous::fromEnvironment();
        if (!r)
            return 10;
        r->timeout = std::chrono::seconds(20);
        auto group = Group::join(*r);
        if (role == "die")
            ::_exit(0); // gone before the first collective
        if (role == "agree") {
            group->requireSame("model hash", "abc");
            std::vector<double> v{static_cast<double>(group->rank() + 1), 10.0};
            group->sum(v);
            return v == std::vector<double>{3.0, 20.0} ? 0 : 11;
        }
        if (role == "disagree") {
            try {
                group->requireSame("calibration hash", "rank one's text");
            } catch (const GroupError &e) {
                return std::string(e.what()).find("calibration hash") != std::string::npos ? 0 : 12;
            }
            return 13;
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "rank 1: %s\n", e.what());
        return 14;
    }
    return 15;
}

} // namespace

class TestDist : public QObject
{
    Q_OBJECT

    QProcess *startRankOne(const QByteArray &role, int port)
    {
        auto *p = new QProcess(this);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("BLOCKSCOPE_DIST_ROLE", QString::fromLatin1(role));
        env.insert("RANK", "1");
        env.insert("WORLD_SIZE", "2");
        env.insert("LOCAL_RANK", "1");
        env.insert("MASTER_ADDR", "127.0.0.1");
        env.insert("MASTER_PORT", QString::number(port));
        p->setProcessEnvironment(env);
        p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p->start(QCoreApplication::applicationFilePath(), {});
        return p;
    }

private Q_SLOTS:
    void environmentIsReadAndChecked()
    {
        qunsetenv("WORLD_SIZE");
        QVERIFY(!Rendezvous::fromEnvironment());
        qputenv("WORLD_SIZE", "4");
        qputenv("RANK", "3");
        qputenv("MASTER_ADDR", "10.0.0.2");
        qputenv("MASTER_PORT", "29612");
        const auto r = Rendezvous::fromEnvironment();
        QVERIFY(r);
        QCOMPARE(r->rank, 3);
        QCOMPARE(r->world, 4);
        QCOMPARE(r->address, std::string("10.0.0.2"));
        QCOMPARE(r->port, 29612);
        qputenv("RANK", "4");
        try {
            Rendezvous::fromEnvironment();
            QFAIL("a rank outside the group was accepted");
        } catch (const GroupError &e) {
            QVERIFY2(std::string(e.what()).find("RANK=\"4\"") != std::string::npos, e.what());
        }
        for (const char *v : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"})
            qunsetenv(v);
    }

    void twoRanksAgreeAndSum()
    {
        const int port = freePort();
        QProcess *one = startRankOne("agree", port);
        auto group = Group::join(rankZero(port));
        QCOMPARE(group->world(), 2);
        group->requireSame("model hash", "abc");
        std::vector<double> v{1.0, 10.0};
        group->sum(v);
        QCOMPARE(v, (std::vector<double>{3.0, 20.0}));
        QVERIFY(one->waitForFinished(30000));
        QCOMPARE(one->exitCode(), 0);
    }

    void mismatchedHashesAreRefusedOnEveryRank()
    {
        const int port = freePort();
        QProcess *one = startRankOne("disagree", port);
        auto group = Group::join(rankZero(port));
        try {
            group->requireSame("calibration hash", "rank zero's text");
            QFAIL("different hashes were accepted");
        } catch (const GroupError &e) {
            const std::string m = e.what();
            QVERIFY2(m.find("calibration hash") != std::string::npos, e.what());
            QVERIFY2(m.find("rank 1 has rank one's text") != std::string::npos, e.what());
        }
        QVERIFY(one->waitForFinished(30000));
        QCOMPARE(one->exitCode(), 0);
    }

    void missingRankTimesOutWithAClearError()
    {
        const int port = freePort();
        QElapsedTimer clock;
        clock.start();
        try {
            Group::join(rankZero(port, 2, 2));
            QFAIL("a group of two formed with one rank");
        } catch (const GroupError &e) {
            const std::string m = e.what();
            QVERIFY2(m.find("127.0.0.1:" + std::to_string(port)) != std::string::npos, e.what());
            QVERIFY2(m.find("1 of 2 ranks") != std::string::npos, e.what());
        }
        QVERIFY(clock.elapsed() < 20000); // the timeout, not a hang
    }

    void deadRankIsAnErrorNotAHang()
    {
        const int port = freePort();
        QProcess *one = startRankOne("die", port);
        auto group = Group::join(rankZero(port));
        QVERIFY(one->waitForFinished(30000));
        std::vector<double> v{1.0};
        try {
            group->sum(v);
            QFAIL("a sum with a dead rank returned");
        } catch (const GroupError &e) {
            QVERIFY2(std::string(e.what()).find("stopped answering") != std::string::npos, e.what());
        }
    }
};

int main(int argc, char **argv)
{
    if (const char *role = std::getenv("BLOCKSCOPE_DIST_ROLE"))
        return runRole(role);
    QCoreApplication app(argc, argv);
    TestDist test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_dist.moc"
