// Units, prune options: JSON both ways, tiny-ts budgets, target counts and the typed validation
// errors of pruning.md §3-§7 and §11 (tests 20, 21).
#include "common/formaterror.h"
#include "prune/pruneoptions.h"
#include "prune/unit.h"

#include <QTest>
#include <cmath>
#include <limits>

using namespace blockscope;

Q_DECLARE_METATYPE(UnitKind)
Q_DECLARE_METATYPE(PruneMethod)

namespace {
PruneOptions optionsFrom(const QString &json)
{
    return PruneOptions::fromJson(nlohmann::json::parse(json.toStdString()));
}

// Every field away from its default, so a field the JSON forgets shows up.
PruneOptions everythingChanged()
{
    PruneOptions o;
    o.method = PruneMethod::EvoPress;
    o.target = 0.375;
    o.seed = 18446744073709551615ull;
    o.calibrationWindows = 17;
    o.batch = 3;
    o.cached = false;
    o.evaluateSteps = false;
    o.earlyStop = true;
    o.earlyBarrier = 2;
    o.latterBarrier = 0;
    o.protectedBlocks = {4, 1};
    o.finercutLevel = "block";
    o.excludeFraction = 0.4;
    o.finercutMetric = "norm";
    o.offspring = 7;
    o.generations = 11;
    o.initialGenomes = 5;
    o.initialTokens = 333;
    o.stageTokens = {100, 200, 300};
    o.stageSurvivors = {4, 2, 1};
    o.maxMutations = 2;
    o.dropEntireBlock = true;
    o.evoFitness = "ppl";
    o.teacher = "top-k";
    o.teacherTopK = 1024;
    o.teacherBudgetMiB = 512.5;
    o.lastHiddenPostNorm = false;
    o.angularAllTokens = true;
    o.angularDivideByPi = false;
    return o;
}
} // namespace

class TestPruneOptions : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void unitNames_data()
    {
        QTest::addColumn<UnitKind>("kind");
        QTest::addColumn<int>("layer");
        QTest::addColumn<QString>("label");
        QTest::addColumn<QString>("hfName");
        QTest::newRow("block") << UnitKind::Block << 3 << "block 3"
                               << "model.layers.3";
        QTest::newRow("attention") << UnitKind::Attention << 3 << "attn 3"
                                   << "model.layers.3.self_attn.o_proj";
        QTest::newRow("mlp") << UnitKind::Mlp << 3 << "mlp 3"
                             << "model.layers.3.mlp.down_proj";
        QTest::newRow("two digits") << UnitKind::Mlp << 12 << "mlp 12"
                                    << "model.layers.12.mlp.down_proj";
    }

    void unitNames()
    {
        QFETCH(UnitKind, kind);
        QFETCH(int, layer);
        QFETCH(QString, label);
        QFETCH(QString, hfName);
        const Unit u{kind, layer};
        QCOMPARE(QString::fromStdString(u.label()), label);
        QCOMPARE(QString::fromStdString(u.hfName()), hfName);
        QVERIFY(unitFromLabel(label.toStdString()) == u);
        QVERIFY(unitKindFromName(unitKindName(kind)) == kind);
    }

    void unitSetsMaskBits()
    {
        UnitMask m = UnitMask::dense(4);
        Unit{UnitKind::Attention, 1}.applyTo(m);
        Unit{UnitKind::Mlp, 2}.applyTo(m);
        Unit{UnitKind::Block, 3}.applyTo(m);
        QVERIFY(m.skipAttn == std::vector<bool>({false, true, false, true}));
        QVERIFY(m.skipMlp == std::vector<bool>({false, false, true, true}));
        QCOMPARE(QString::fromStdString(m.describe()), QStringLiteral("attn 1, mlp 2, block 3"));
    }

    void badUnitLabels_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("empty") << "";
        QTest::newRow("no layer") << "attn";
        QTest::newRow("unknown kind") << "head 3";
        QTest::newRow("negative layer") << "mlp -1";
        QTest::newRow("trailing text") << "mlp 3x";
        QTest::newRow("two spaces") << "mlp  3";
        QTest::newRow("upper case") << "MLP 3";
    }

    void badUnitLabels()
    {
        QFETCH(QString, text);
        try {
            unitFromLabel(text.toStdString());
            QFAIL("no exception");
        } catch (const std::invalid_argument &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("\"" + text + "\""), e.what());
        }
    }

    void methodNames()
    {
        for (PruneMethod m : {PruneMethod::Sleb, PruneMethod::FinerCut, PruneMethod::EvoPress, PruneMethod::ShortGpt,
                 PruneMethod::Angular})
            QVERIFY(pruneMethodFromName(pruneMethodName(m)) == m);
        QCOMPARE(
            QString::fromStdString(pruneMethodNames()), QStringLiteral("sleb, finercut, evopress, shortgpt, angular"));
        try {
            pruneMethodFromName("slab");
            QFAIL("no exception");
        } catch (const UsageError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("slab"), e.what());
            QVERIFY2(QString::fromUtf8(e.what()).contains("sleb, finercut, evopress, shortgpt, angular"), e.what());
        }
    }

    void jsonRoundTrip()
    {
        const PruneOptions o = everythingChanged();
        const nlohmann::json j = o.toJson();
        QCOMPARE(int(j.size()), 29);
        QCOMPARE(QString::fromStdString(j.at("method").get<std::string>()), QStringLiteral("evopress"));
        QCOMPARE(j.at("seed").get<std::uint64_t>(), o.seed);
        const PruneOptions back = PruneOptions::fromJson(j);
        QVERIFY(back.toJson() == j);
        QVERIFY(back.method == o.method);
        QCOMPARE(back.target, o.target);
        QCOMPARE(back.seed, o.seed);
        QCOMPARE(back.calibrationWindows, o.calibrationWindows);
        QCOMPARE(back.batch, o.batch);
        QCOMPARE(back.cached, o.cached);
        QCOMPARE(back.evaluateSteps, o.evaluateSteps);
        QCOMPARE(back.earlyStop, o.earlyStop);
        QCOMPARE(back.earlyBarrier, o.earlyBarrier);
        QCOMPARE(back.latterBarrier, o.latterBarrier);
        QVERIFY(back.protectedBlocks == o.protectedBlocks);
        QCOMPARE(back.finercutLevel, o.finercutLevel);
        QCOMPARE(back.excludeFraction, o.excludeFraction);
        QCOMPARE(back.finercutMetric, o.finercutMetric);
        QCOMPARE(back.offspring, o.offspring);
        QCOMPARE(back.generations, o.generations);
        QCOMPARE(back.initialGenomes, o.initialGenomes);
        QCOMPARE(back.initialTokens, o.initialTokens);
        QVERIFY(back.stageTokens == o.stageTokens);
        QVERIFY(back.stageSurvivors == o.stageSurvivors);
        QCOMPARE(back.maxMutations, o.maxMutations);
        QCOMPARE(back.dropEntireBlock, o.dropEntireBlock);
        QCOMPARE(back.evoFitness, o.evoFitness);
        QCOMPARE(back.teacher, o.teacher);
        QCOMPARE(back.teacherTopK, o.teacherTopK);
        QCOMPARE(back.teacherBudgetMiB, o.teacherBudgetMiB);
        QCOMPARE(back.lastHiddenPostNorm, o.lastHiddenPostNorm);
        QCOMPARE(back.angularAllTokens, o.angularAllTokens);
        QCOMPARE(back.angularDivideByPi, o.angularDivideByPi);
        // And through text, as the experiment file stores it.
        QVERIFY(PruneOptions::fromJson(nlohmann::json::parse(j.dump())).toJson() == j);
    }

    void missingKeysKeepDefaults()
    {
        QVERIFY(PruneOptions::fromJson(nlohmann::json::object()).toJson() == PruneOptions().toJson());
        const PruneOptions o = optionsFrom(R"({"method": "finercut", "offspring": 5})");
        QVERIFY(o.method == PruneMethod::FinerCut);
        QCOMPARE(o.offspring, 5);
        QCOMPARE(o.initialGenomes, PruneOptions().initialGenomes);
        QVERIFY(o.stageTokens == PruneOptions().stageTokens);
    }

    void badJson_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("key");
        QTest::newRow("unknown key") << R"({"ofspring": 3})"
                                     << "ofspring";
        QTest::newRow("unknown method") << R"({"method": "slab"})"
                                        << "method";
        QTest::newRow("method not a string") << R"({"method": 1})"
                                             << "method";
        QTest::newRow("target a string") << R"({"target": "7"})"
                                         << "target";
        QTest::newRow("negative seed") << R"({"seed": -1})"
                                       << "seed";
        QTest::newRow("fractional batch") << R"({"batch": 1.5})"
                                          << "batch";
        QTest::newRow("batch beyond int") << R"({"batch": 4294967296})"
                                          << "batch";
        QTest::newRow("cached as number") << R"({"cached": 1})"
                                          << "cached";
        QTest::newRow("protected not an array") << R"({"protected_blocks": 3})"
                                                << "protected_blocks";
        QTest::newRow("protected of strings") << R"({"protected_blocks": ["3"]})"
                                              << "protected_blocks";
        QTest::newRow("unknown level") << R"({"finercut_level": "ma"})"
                                       << "finercut_level";
        QTest::newRow("unknown metric") << R"({"finercut_metric": "jsd"})"
                                        << "finercut_metric";
        QTest::newRow("exclude as string") << R"({"exclude_fraction": "0.4"})"
                                           << "exclude_fraction";
        QTest::newRow("stage tokens of floats") << R"({"stage_tokens": [1024.5]})"
                                                << "stage_tokens";
        QTest::newRow("unknown fitness") << R"({"evo_fitness": "js"})"
                                         << "evo_fitness";
        QTest::newRow("unknown teacher") << R"({"teacher": "float8"})"
                                         << "teacher";
        QTest::newRow("top-k as string") << R"({"teacher_top_k": "512"})"
                                         << "teacher_top_k";
        QTest::newRow("budget as string") << R"({"teacher_budget_mib": "4G"})"
                                          << "teacher_budget_mib";
        QTest::newRow("flag as string") << R"({"angular_divide_by_pi": "yes"})"
                                        << "angular_divide_by_pi";
    }

    void badJson()
    {
        QFETCH(QString, json);
        QFETCH(QString, key);
        try {
            optionsFrom(json);
            QFAIL("no exception");
        } catch (const UsageError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("\"" + key + "\""), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(UsageError, PruneOptions::fromJson(nlohmann::json::array()));
    }

    // Each protocol's calibration budget (pruning.md §2) rather than tiny-ts's for all of them.
    void calibrationBudgets_data()
    {
        QTest::addColumn<PruneMethod>("method");
        QTest::addColumn<QString>("protocol");
        QTest::addColumn<qint64>("context");
        QTest::addColumn<int>("windows");
        QTest::newRow("sleb, tiny-ts") << PruneMethod::Sleb << "tiny-ts" << qint64(512) << 16;
        QTest::newRow("sleb, sleb") << PruneMethod::Sleb << "sleb" << qint64(2048) << 128;
        QTest::newRow("finercut, finercut") << PruneMethod::FinerCut << "finercut" << qint64(256) << 10;
        QTest::newRow("evopress, evopress at 8192") << PruneMethod::EvoPress << "evopress" << qint64(8192) << 16;
        QTest::newRow("evopress, evopress at 3000") << PruneMethod::EvoPress << "evopress" << qint64(3000) << 44;
        QTest::newRow("evopress, tiny-ts") << PruneMethod::EvoPress << "tiny-ts" << qint64(512) << 64;
        QTest::newRow("shortgpt, sleb: every window") << PruneMethod::ShortGpt << "sleb" << qint64(2048) << 0;
        QTest::newRow("shortgpt, tiny-ts") << PruneMethod::ShortGpt << "tiny-ts" << qint64(512) << 64;
        QTest::newRow("sleb, sliding") << PruneMethod::Sleb << "sliding" << qint64(512) << 16;
        QTest::newRow("sleb, evopress") << PruneMethod::Sleb << "evopress" << qint64(4096) << 32;
    }
    void calibrationBudgets()
    {
        QFETCH(PruneMethod, method);
        QFETCH(QString, protocol);
        QFETCH(qint64, context);
        QFETCH(int, windows);
        QCOMPARE(PruneOptions::calibrationBudget(method, protocol.toStdString(), context), windows);
    }

    void tinyTsDefaults_data()
    {
        QTest::addColumn<PruneMethod>("method");
        QTest::addColumn<qint64>("windows");
        QTest::newRow("sleb") << PruneMethod::Sleb << qint64(16);
        QTest::newRow("finercut") << PruneMethod::FinerCut << qint64(10);
        QTest::newRow("evopress") << PruneMethod::EvoPress << qint64(64);
        QTest::newRow("shortgpt") << PruneMethod::ShortGpt << qint64(64);
        QTest::newRow("angular") << PruneMethod::Angular << qint64(64);
    }

    void tinyTsDefaults()
    {
        QFETCH(PruneMethod, method);
        QFETCH(qint64, windows);
        const PruneOptions o = PruneOptions::tinyTsDefaults(method);
        QVERIFY(o.method == method);
        QCOMPARE(qint64(o.calibrationWindows), windows);
        if (method == PruneMethod::EvoPress) {
            QCOMPARE(o.initialTokens, std::int64_t(1024));
            QVERIFY(o.stageTokens == std::vector<std::int64_t>({1024, 8192}));
            QCOMPARE(o.offspring, 16);
            // 64 windows of 512 tokens fill every budget.
            PruneOptions withTarget = o;
            withTarget.target = 2;
            withTarget.validate(5, 64 * 512);
        }
    }

    void targetCount_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("count");
        QTest::newRow("sleb L=32 r=0.2") << R"({"method": "sleb", "target": 0.2})" << 32 << 7;
        QTest::newRow("sleb L=32 r=0.1") << R"({"method": "sleb", "target": 0.1})" << 32 << 4;
        QTest::newRow("sleb count 3") << R"({"method": "sleb", "target": 3})" << 32 << 3;
        QTest::newRow("sleb L=10 r=0.3 is exactly 3") << R"({"method": "sleb", "target": 0.3})" << 10 << 3;
        QTest::newRow("shortgpt L=32 r=0.28") << R"({"method": "shortgpt", "target": 0.28})" << 32 << 9;
        QTest::newRow("angular count 4") << R"({"method": "angular", "target": 4})" << 32 << 4;
        QTest::newRow("finercut L=5 full ranking") << R"({"method": "finercut", "target": 0})" << 5 << 10;
        QTest::newRow("finercut level a full ranking")
            << R"({"method": "finercut", "target": 0, "finercut_level": "a"})" << 5 << 5;
        QTest::newRow("finercut L=32 r=0.25") << R"({"method": "finercut", "target": 0.25})" << 32 << 16;
        QTest::newRow("finercut count 7") << R"({"method": "finercut", "target": 7})" << 32 << 7;
        QTest::newRow("evopress L=32 r=0.25") << R"({"method": "evopress", "target": 0.25})" << 32 << 8;
        QTest::newRow("evopress L=10 r=0.7 is exactly 7") << R"({"method": "evopress", "target": 0.7})" << 10 << 7;
        QTest::newRow("evopress count 2") << R"({"method": "evopress", "target": 2})" << 5 << 2;
    }

    void targetCount()
    {
        QFETCH(QString, json);
        QFETCH(int, layers);
        QFETCH(int, count);
        QCOMPARE(optionsFrom(json).targetCount(layers), count);
    }

    void validOptions_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<int>("layers");
        QTest::addColumn<qint64>("tokens");
        QTest::newRow("sleb K = L - 2") << R"({"method": "sleb", "target": 3})" << 5 << qint64(8192);
        QTest::newRow("sleb no barriers") << R"({"method": "sleb", "target": 5, "early_barrier": 0,
            "latter_barrier": 0})" << 5 << qint64(8192);
        QTest::newRow("finercut full ranking")
            << R"({"method": "finercut", "exclude_fraction": 0.4})" << 5 << qint64(2560);
        QTest::newRow("evopress official budgets")
            << R"({"method": "evopress", "target": 0.25})" << 32 << qint64(131072);
        QTest::newRow("shortgpt with protection") << R"({"method": "shortgpt", "target": 0.25,
            "protected_blocks": [0, 31]})" << 32 << qint64(1);
        QTest::newRow("angular L-1 blocks") << R"({"method": "angular", "target": 4})" << 5 << qint64(1);
    }

    void validOptions()
    {
        QFETCH(QString, json);
        QFETCH(int, layers);
        QFETCH(qint64, tokens);
        optionsFrom(json).validate(layers, tokens);
    }

    void invalidOptions_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<int>("layers");
        QTest::addColumn<qint64>("tokens");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("says");
        QTest::newRow("sleb K > L - 2 (spec test 21)")
            << R"({"method": "sleb", "target": 4})" << 5 << qint64(8192) << "target"
            << "SLEB cannot remove 4 blocks from a 5-block model with barriers 1 and 1: at most 3";
        QTest::newRow("sleb fraction beyond barriers")
            << R"({"method": "sleb", "target": 0.9})" << 5 << qint64(8192) << "target"
            << "at most 3";
        QTest::newRow("sleb nothing to remove") << R"({"method": "sleb", "target": 0})" << 5 << qint64(8192) << "target"
                                                << "at least one";
        QTest::newRow("negative target") << R"({"method": "sleb", "target": -1})" << 5 << qint64(8192) << "target"
                                         << "-1";
        QTest::newRow("fractional count") << R"({"method": "sleb", "target": 2.5})" << 5 << qint64(8192) << "target"
                                          << "whole number";
        QTest::newRow("negative barrier")
            << R"({"method": "sleb", "target": 1, "early_barrier": -1})" << 5 << qint64(8192) << "early_barrier"
            << "-1";
        QTest::newRow("sleb all unprotected taken")
            << R"({"method": "sleb", "target": 3, "protected_blocks": [1, 2, 3]})" << 5 << qint64(8192)
            << "protected_blocks"
            << "only 2";
        QTest::newRow("protected block out of range")
            << R"({"method": "sleb", "target": 1, "protected_blocks": [5]})" << 5 << qint64(8192) << "protected_blocks"
            << "block 5";
        QTest::newRow("negative protected block") << R"({"method": "shortgpt", "target": 1,
            "protected_blocks": [-1]})" << 5 << qint64(8192)
                                                  << "protected_blocks"
                                                  << "block -1";
        QTest::newRow("shortgpt every block")
            << R"({"method": "shortgpt", "target": 5})" << 5 << qint64(8192) << "target"
            << "at most 4";
        QTest::newRow("angular fraction rounds to L")
            << R"({"method": "angular", "target": 0.99})" << 5 << qint64(8192) << "target"
            << "at most 4";
        QTest::newRow("finercut exclude fraction 1")
            << R"({"method": "finercut", "exclude_fraction": 1})" << 5 << qint64(8192) << "exclude_fraction"
            << "[0, 1)";
        QTest::newRow("finercut negative exclude fraction")
            << R"({"method": "finercut", "exclude_fraction": -0.1})" << 5 << qint64(8192) << "exclude_fraction"
            << "[0, 1)";
        QTest::newRow("finercut more steps than units")
            << R"({"method": "finercut", "target": 11})" << 5 << qint64(8192) << "target"
            << "10 units";
        QTest::newRow("evopress k = 0") << R"({"method": "evopress", "target": 0.1})" << 5 << qint64(1 << 20)
                                        << "target"
                                        << "k = 0";
        QTest::newRow("evopress k = L") << R"({"method": "evopress", "target": 5})" << 5 << qint64(1 << 20) << "target"
                                        << "k = 5";
        QTest::newRow("evopress no offspring")
            << R"({"method": "evopress", "target": 2, "offspring": 0})" << 5 << qint64(1 << 20) << "offspring"
            << ">= 1";
        QTest::newRow("evopress no mutations")
            << R"({"method": "evopress", "target": 2, "max_mutations": 0})" << 5 << qint64(1 << 20) << "max_mutations"
            << ">= 1";
        QTest::newRow("evopress no initial genomes") << R"({"method": "evopress", "target": 2, "initial_genomes": 0})"
                                                     << 5 << qint64(1 << 20) << "initial_genomes"
                                                     << ">= 1";
        QTest::newRow("evopress negative generations")
            << R"({"method": "evopress", "target": 2, "generations": -1})" << 5 << qint64(1 << 20) << "generations"
            << ">= 0";
        QTest::newRow("evopress stage lengths differ")
            << R"({"method": "evopress", "target": 2, "stage_tokens": [1024], "stage_survivors": [2, 1]})" << 5
            << qint64(1 << 20) << "stage_survivors"
            << "has 2 stages";
        QTest::newRow("evopress no stages")
            << R"({"method": "evopress", "target": 2, "stage_tokens": [], "stage_survivors": []})" << 5
            << qint64(1 << 20) << "stage_tokens"
            << "at least one";
        QTest::newRow("evopress stage keeps nothing") << R"({"method": "evopress", "target": 2,
            "stage_survivors": [2, 0]})" << 5 << qint64(1 << 20)
                                                      << "stage_survivors"
                                                      << ">= 1";
        QTest::newRow("evopress stage beyond calibration (spec test 20)")
            << R"({"method": "evopress", "target": 2})" << 5 << qint64(8192) << "stage_tokens"
            << "EvoPress would never fill a minibatch of 32768 tokens from 8192 calibration tokens";
        QTest::newRow("evopress initial beyond calibration")
            << R"({"method": "evopress", "target": 2, "initial_tokens": 9000, "stage_tokens": [1024, 2048]})" << 5
            << qint64(8192) << "initial_tokens"
            << "never fill a minibatch of 9000";
        QTest::newRow("evopress empty budget")
            << R"({"method": "evopress", "target": 2, "initial_tokens": 0})" << 5 << qint64(1 << 20) << "initial_tokens"
            << ">= 1";
        QTest::newRow("top-k below the spec's 512")
            << R"({"method": "evopress", "target": 2, "teacher": "top-k", "teacher_top_k": 100})" << 5
            << qint64(1 << 20) << "teacher_top_k"
            << "K >= 512";
        QTest::newRow("zero teacher budget") << R"({"method": "evopress", "target": 2, "teacher_budget_mib": 0})" << 5
                                             << qint64(1 << 20) << "teacher_budget_mib"
                                             << "positive";
        QTest::newRow("negative batch") << R"({"method": "sleb", "target": 1, "batch": -1})" << 5 << qint64(8192)
                                        << "batch"
                                        << "-1";
        QTest::newRow("negative calibration windows") << R"({"method": "sleb", "target": 1, "calibration_windows": -2})"
                                                      << 5 << qint64(8192) << "calibration_windows"
                                                      << "-2";
    }

    void invalidOptions()
    {
        QFETCH(QString, json);
        QFETCH(int, layers);
        QFETCH(qint64, tokens);
        QFETCH(QString, key);
        QFETCH(QString, says);
        const PruneOptions o = optionsFrom(json);
        try {
            o.validate(layers, tokens);
            QFAIL("no exception");
        } catch (const UsageError &e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains("\"" + key + "\""), e.what());
            QVERIFY2(message.contains(says), e.what());
        }
    }

    // EvoPress's teacher (pruning.md §5): its size in each format, its budget, and what the protocol
    // card says; SLEB and the ppl fitness keep none.
    void teacherBudget()
    {
        PruneOptions o;
        o.method = PruneMethod::EvoPress;
        o.target = 2;
        const std::int64_t tokens = 131072, vocab = 49152; // the depth script's 2^17 tokens, SmolLM2
        QCOMPARE(o.teacher, std::string("float16"));
        QCOMPARE(o.teacherBytes(tokens, vocab), double(tokens) * vocab * 2);
        o.teacher = "float32";
        QCOMPARE(o.teacherBytes(tokens, vocab), double(tokens) * vocab * 4);
        o.teacher = "bfloat16";
        QCOMPARE(o.teacherBytes(tokens, vocab), double(tokens) * vocab * 2);
        o.teacher = "top-k";
        QCOMPARE(o.teacherBytes(tokens, vocab), double(tokens) * (513 * 4 + 512 * 4));
        QCOMPARE(o.teacherBytes(10, 300), 10.0 * (301 * 4 + 300 * 4)); // K beyond the vocabulary: all of it
        o.checkTeacherBudget(tokens, vocab); // 0.5 GiB in 4 GiB
        QVERIFY(QString::fromStdString(o.teacherDescription(tokens, vocab)).contains("top-512"));
        QVERIFY(QString::fromStdString(o.teacherDescription(tokens, vocab)).contains("lower bound"));

        o.teacher = "float16"; // 12 GiB
        try {
            o.checkTeacherBudget(tokens, vocab);
            QFAIL("no exception");
        } catch (const UsageError &e) {
            const QString m = QString::fromUtf8(e.what());
            QVERIFY2(m.contains("\"teacher_budget_mib\""), e.what());
            QVERIFY2(m.contains("12.00 GiB as float16"), e.what());
            QVERIFY2(m.contains("4096 MiB"), e.what());
            QVERIFY2(m.contains("teacher=top-k (top-512: 0.50 GiB)"), e.what());
        }
        o.teacherBudgetMiB = 12 * 1024;
        o.checkTeacherBudget(tokens, vocab);
        QVERIFY(QString::fromStdString(o.teacherDescription(tokens, vocab)).contains("logits in float16 on the host"));

        o.teacher = "top-k";
        o.teacherBudgetMiB = 100; // even top-K does not fit: no top-K advice
        try {
            o.checkTeacherBudget(tokens, vocab);
            QFAIL("no exception");
        } catch (const UsageError &e) {
            QVERIFY2(!QString::fromUtf8(e.what()).contains("use teacher=top-k"), e.what());
            QVERIFY2(QString::fromUtf8(e.what()).contains("calibration_windows"), e.what());
        }

        o.evoFitness = "ppl"; // the NLL fitness needs no teacher
        QCOMPARE(o.teacherBytes(tokens, vocab), 0.0);
        QVERIFY(o.teacherDescription(tokens, vocab).empty());
        o.checkTeacherBudget(tokens, vocab);
        o.method = PruneMethod::Sleb;
        o.evoFitness = "kl";
        QVERIFY(!o.usesTeacher());
    }

    // Values JSON cannot carry, or that fromJson refuses, still fail validate() when set in code.
    void invalidOptionsSetInCode()
    {
        const auto expectError = [](PruneOptions o, const QString &key) {
            try {
                o.validate(8, 1 << 20);
                return QStringLiteral("no exception for ") + key;
            } catch (const UsageError &e) {
                return QString::fromUtf8(e.what()).contains("\"" + key + "\"") ? QString() : QString(e.what());
            }
        };
        PruneOptions o;
        o.target = std::numeric_limits<double>::quiet_NaN();
        QCOMPARE(expectError(o, "target"), QString());
        o.target = std::numeric_limits<double>::infinity();
        QCOMPARE(expectError(o, "target"), QString());
        o = {};
        o.method = PruneMethod::FinerCut;
        o.finercutLevel = "ma";
        QCOMPARE(expectError(o, "finercut_level"), QString());
        o.finercutLevel = "am";
        o.finercutMetric = "jsd";
        QCOMPARE(expectError(o, "finercut_metric"), QString());
        o.finercutMetric = "js";
        o.excludeFraction = std::numeric_limits<double>::quiet_NaN();
        QCOMPARE(expectError(o, "exclude_fraction"), QString());
        o = {};
        o.method = PruneMethod::EvoPress;
        o.target = 2;
        o.evoFitness = "js";
        QCOMPARE(expectError(o, "evo_fitness"), QString());
        QVERIFY_THROWS_EXCEPTION(UsageError, PruneOptions().validate(0, 1));
    }
};

QTEST_GUILESS_MAIN(TestPruneOptions)
#include "tst_pruneoptions.moc"
