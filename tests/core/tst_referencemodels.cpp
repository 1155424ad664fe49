// Tiny random Hugging Face models of every supported variant (generated once by
// tests/fixtures/make_reference_models.py with transformers) against their reference logits,
// dense and with a sublayer's output zeroed (which skipping that sublayer must reproduce).
#include "common/mappedfile.h"
#include "model/checkpointreaders.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "model/tensorinfo.h"
#include "model/weighttensor.h"
#include "testdata.h"

#include <ATen/ATen.h>
#include <QTest>

using namespace blockscope;

namespace {
struct Reference
{
    std::shared_ptr<const MappedFile> file;
    std::map<std::string, at::Tensor> tensors;
};

Reference loadReference(const std::string &path)
{
    Reference r;
    r.file = MappedFile::open(path);
    std::vector<std::string> warnings;
    for (const auto &t : readSafetensorsTensors(*r.file, warnings)) {
        const auto type = t.dtype == DType::I64 ? at::kLong : at::kFloat;
        r.tensors[t.name] = at::from_blob(const_cast<std::byte *>(r.file->data() + t.offset), t.shape, type).clone();
    }
    return r;
}
} // namespace

class TestReferenceModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void matchesTransformers_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<QString>("family");
        QTest::newRow("llama, GQA, untied") << "llama_gqa_untied"
                                            << "llama";
        QTest::newRow("llama3 rope scaling, MHA, tied") << "llama3_rope_scaling"
                                                        << "llama";
        QTest::newRow("llama attention+mlp bias, head_dim 16") << "llama_bias_headdim"
                                                               << "llama";
        QTest::newRow("mistral sliding window 16") << "mistral_sliding"
                                                   << "mistral";
        QTest::newRow("qwen2 q/k/v bias, tied") << "qwen2_bias_tied"
                                                << "qwen2";
    }

    void matchesTransformers()
    {
        QFETCH(QString, variant);
        QFETCH(QString, family);
        const QString dir = blockscope::test::sourceDir() + QStringLiteral("/tests/fixtures/models/") + variant;
        auto model = ModelHandle::open(dir.toStdString());
        QCOMPARE(QString::fromStdString(model->architecture().family), family);
        const Reference ref = loadReference((dir + QStringLiteral("/reference.safetensors")).toStdString());
        const at::Tensor tokens = ref.tensors.at("tokens");
        Decoder dec(model);

        struct Case
        {
            const char *name;
            int attn, mlp;
        } cases[] = {{"logits_dense", -1, -1}, {"logits_zero_attn_1", 1, -1}, {"logits_zero_mlp_0", -1, 0}};
        for (const auto &c : cases) {
            UnitMask mask = UnitMask::dense(dec.layers());
            if (c.attn >= 0)
                mask.skipAttn[c.attn] = true;
            if (c.mlp >= 0)
                mask.skipMlp[c.mlp] = true;
            const at::Tensor got = dec.forward(tokens, mask);
            const at::Tensor want = ref.tensors.at(c.name);
            const double diff = (got - want).abs().max().item<double>();
            const double scale = want.abs().max().item<double>();
            qInfo("%s: max |diff| %.3g (logits up to %.3g)", c.name, diff, scale);
            QVERIFY2(diff <= 1e-4 * std::max(1.0, scale), c.name);
        }
    }
};

QTEST_GUILESS_MAIN(TestReferenceModels)
#include "tst_referencemodels.moc"
