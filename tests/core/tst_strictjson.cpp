// The strict JSON reader every checkpoint header and config goes through: valid UTF-8 only,
// no duplicate keys, bounded nesting and string sizes, no NaN/Infinity.
#include "common/formaterror.h"
#include "common/strictjson.h"

#include <QTest>

using namespace blockscope;

class TestStrictJson : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void accepted_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("object") << QByteArray(R"({"a":1,"b":[1,2.5,-3],"c":{"d":null,"e":true}})");
        QTest::newRow("same key in sibling objects") << QByteArray(R"({"a":{"k":1},"b":{"k":2}})");
        QTest::newRow("same key at different depths") << QByteArray(R"({"k":{"k":{"k":1}}})");
        QTest::newRow("64 levels of arrays") << QByteArray(64, '[') + QByteArray(64, ']');
        QByteArray objects;
        for (int i = 0; i < 63; ++i)
            objects += "{\"a\":";
        objects += "{}" + QByteArray(63, '}');
        QTest::newRow("64 levels of objects") << objects;
        QTest::newRow("multi-byte UTF-8") << QByteArray("{\"\xe2\x96\x81\":\"\xf0\x9f\x98\x80\"}");
        QTest::newRow("escaped surrogate pair") << QByteArray(R"({"a":"\ud83d\ude00"})");
        QTest::newRow("largest double") << QByteArray("[1.7976931348623157e308]");
        QTest::newRow("u64 max") << QByteArray("[18446744073709551615]");
        QTest::newRow("trailing whitespace") << QByteArray("{}   \n");
    }

    void accepted()
    {
        QFETCH(QByteArray, text);
        const auto j = parseStrictJson(text.toStdString(), "t.json", "doc");
        QVERIFY(!j.is_discarded());
    }

    void rejected_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expect");
        QTest::addColumn<qint64>("offset"); // -1: not checked
        QTest::newRow("empty") << QByteArray() << "is not valid JSON" << qint64(-1);
        QTest::newRow("BOM not allowed") << QByteArray("\xEF\xBB\xBF{}") << "byte-order mark" << qint64(100);
        QTest::newRow("lone continuation byte")
            << QByteArray("{\"a\":\"\x80\"}") << "is not valid UTF-8" << qint64(106);
        QTest::newRow("overlong slash") << QByteArray("{\"\xc0\xaf\":1}") << "is not valid UTF-8" << qint64(102);
        QTest::newRow("overlong 3-byte") << QByteArray("[\"\xe0\x80\x80\"]") << "not valid UTF-8" << qint64(102);
        QTest::newRow("UTF-8 surrogate") << QByteArray("[\"\xed\xa0\x80\"]") << "not valid UTF-8" << qint64(102);
        QTest::newRow("above U+10FFFF") << QByteArray("[\"\xf4\x90\x80\x80\"]") << "not valid UTF-8" << qint64(102);
        QTest::newRow("5-byte lead") << QByteArray("[\"\xf8\x88\x80\x80\x80\"]") << "not valid UTF-8" << qint64(102);
        QTest::newRow("truncated sequence at end") << QByteArray("[\"\xe2\x96") << "not valid UTF-8" << qint64(102);
        QTest::newRow("duplicate key") << QByteArray(R"({"a":1,"a":2})") << "key \"a\" twice" << qint64(-1);
        QTest::newRow("duplicate key via escape")
            << QByteArray(R"({"a":1,"\u0061":2})") << "key \"a\" twice" << qint64(-1);
        QTest::newRow("nested duplicate key")
            << QByteArray(R"({"x":[{"b":1,"b":1}]})") << "key \"b\" twice" << qint64(-1);
        QTest::newRow("NaN") << QByteArray("[NaN]") << "is not valid JSON" << qint64(-1);
        QTest::newRow("Infinity") << QByteArray("[Infinity]") << "is not valid JSON" << qint64(-1);
        QTest::newRow("-Infinity") << QByteArray("[-Infinity]") << "is not valid JSON" << qint64(-1);
        QTest::newRow("number overflowing a double") << QByteArray("[1e999]") << "overflow" << qint64(-1);
        QTest::newRow("65 levels of arrays")
            << QByteArray(65, '[') + QByteArray(65, ']') << "nests deeper than 64" << qint64(-1);
        QTest::newRow("65 levels, unterminated") << QByteArray(100000, '[') << "nests deeper than 64" << qint64(-1);
        QTest::newRow("key above 1 MiB") << "{\"" + QByteArray(1024 * 1024 + 1, 'k') + "\":1}"
                                         << "has a key of 1048577" << qint64(-1);
        QTest::newRow("string above 1 MiB") << "[\"" + QByteArray(1024 * 1024 + 1, 's') + "\"]"
                                            << "has a string of 1048577" << qint64(-1);
        QTest::newRow("trailing garbage") << QByteArray("{} {}") << "is not valid JSON" << qint64(-1);
        QTest::newRow("comment") << QByteArray("{/* c */}") << "is not valid JSON" << qint64(-1);
        QTest::newRow("single quotes") << QByteArray("{'a':1}") << "is not valid JSON" << qint64(-1);
        QTest::newRow("trailing comma") << QByteArray(R"({"a":1,})") << "is not valid JSON" << qint64(-1);
        QTest::newRow("raw control character in string")
            << QByteArray("[\"a\nb\"]") << "is not valid JSON" << qint64(-1);
        QTest::newRow("unpaired escaped surrogate") << QByteArray(R"(["\ud800"])") << "is not valid JSON" << qint64(-1);
    }

    void rejected()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, expect);
        QFETCH(qint64, offset);
        StrictJsonOptions opts;
        opts.baseOffset = 100; // where the text sits in its file
        try {
            parseStrictJson(text.toStdString(), "t.json", "doc", opts);
            QFAIL("accepted");
        } catch (const FormatError &e) {
            QCOMPARE(e.file(), std::string("t.json"));
            QCOMPARE(e.field(), std::string("doc"));
            QVERIFY2(QString::fromStdString(e.message()).contains(expect), e.what());
            if (offset >= 0)
                QCOMPARE(e.byteOffset(), std::uint64_t(offset));
        }
    }

    void bomAllowedWhenAsked()
    {
        StrictJsonOptions opts;
        opts.allowBom = true;
        bool bom = false;
        const auto j = parseStrictJson("\xEF\xBB\xBF{\"a\":1}", "c.json", "config", opts, &bom);
        QVERIFY(bom);
        QCOMPARE(j["a"].get<int>(), 1);
        parseStrictJson("{}", "c.json", "config", opts, &bom);
        QVERIFY(!bom);
    }

    void limitsAreOptions()
    {
        StrictJsonOptions opts;
        opts.maxDepth = 2;
        opts.maxStringBytes = 3;
        QVERIFY(parseStrictJson("[[\"abc\"]]", "t", "doc", opts).is_array());
        QVERIFY_THROWS_EXCEPTION(FormatError, parseStrictJson("[[[1]]]", "t", "doc", opts));
        QVERIFY_THROWS_EXCEPTION(FormatError, parseStrictJson("[\"abcd\"]", "t", "doc", opts));
        QVERIFY_THROWS_EXCEPTION(FormatError, parseStrictJson("{\"abcd\":1}", "t", "doc", opts));
    }
};

QTEST_GUILESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"
