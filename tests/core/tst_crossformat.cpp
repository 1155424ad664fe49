// The same model from llama2.c .bin, GGUF and an exported Hugging Face folder looks the same to
// the engine: same architecture, same tensors, same values (q/k permuted per formats.md §7).
#include "model/checkpointexport.h"
#include "model/modelhandle.h"
#include "model/tensorvalues.h"
#include "model/weighttensor.h"
#include "testdata.h"

#include <ATen/ATen.h>
#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

class TestCrossFormat : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        const QString bin = sharedFile(QStringLiteral("models/stories260K/stories260K.bin"));
        const QString gguf = sharedFile(QStringLiteral("models/stories260K/stories260K.gguf"));
        if (bin.isEmpty() || gguf.isEmpty())
            QSKIP("stories260K not found (set BLOCKSCOPE_SHARED_DATA)");
        m_bin = ModelHandle::open(bin.toStdString());
        m_gguf = ModelHandle::open(gguf.toStdString());
        m_hfDir = freshTempDir(QStringLiteral("stories260K-hf"));
        exportHuggingFaceFolder(m_bin, m_hfDir.toStdString());
        m_hf = ModelHandle::open(m_hfDir.toStdString());
    }

    void sameArchitecture_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("gguf") << 1;
        QTest::newRow("hf folder") << 2;
    }

    void sameArchitecture()
    {
        QFETCH(int, which);
        const auto &other = which == 1 ? m_gguf : m_hf;
        const Architecture &a = m_bin->architecture(), &b = other->architecture();
        QCOMPARE(b.family, a.family);
        QCOMPARE(b.layers, a.layers);
        QCOMPARE(b.hidden, a.hidden);
        QCOMPARE(b.intermediate, a.intermediate);
        QCOMPARE(b.heads, a.heads);
        QCOMPARE(b.kvHeads, a.kvHeads);
        QCOMPARE(b.headDim, a.headDim);
        QCOMPARE(b.vocab, a.vocab);
        QCOMPARE(float(b.rmsNormEps), float(a.rmsNormEps)); // GGUF stores it as float32
        QCOMPARE(b.ropeTheta, a.ropeTheta);
        QCOMPARE(b.ropeLayout, which == 1 ? RopeLayout::Interleaved : RopeLayout::RotateHalf);
        QCOMPARE(other->parameterCount() - (which == 1 ? a.vocab * a.hidden : 0), m_bin->parameterCount());
        for (int block = 0; block < a.layers; ++block) {
            QCOMPARE(other->blockTensors(block, TensorRole::Attention).size(),
                m_bin->blockTensors(block, TensorRole::Attention).size());
            QCOMPARE(
                other->blockTensors(block, TensorRole::Mlp).size(), m_bin->blockTensors(block, TensorRole::Mlp).size());
        }
    }

    void ggufBitIdentical()
    {
        // The GGUF carries an explicit output.weight equal to the embedding; the .bin shares it.
        QCOMPARE(m_gguf->architecture().tiedEmbeddings, false);
        for (const auto &t : m_bin->tensors()) {
            const TensorInfo *g = m_gguf->find(t.name);
            QVERIFY2(g, t.name.c_str());
            QCOMPARE(g->shape, t.shape);
            const auto a = m_bin->data(t), b = m_gguf->data(*g);
            QCOMPARE(a.size(), b.size());
            QVERIFY2(std::memcmp(a.data(), b.data(), a.size()) == 0, t.name.c_str());
        }
        const auto emb = m_bin->data(*m_bin->find("model.embed_tokens.weight"));
        const auto out = m_gguf->data(*m_gguf->find("lm_head.weight"));
        QVERIFY(std::memcmp(emb.data(), out.data(), emb.size()) == 0);
    }

    void hfFolderSameWeights()
    {
        const Architecture &a = m_bin->architecture();
        for (const auto &t : m_bin->tensors()) {
            const TensorInfo *h = m_hf->find(t.name);
            QVERIFY2(h, t.name.c_str());
            at::Tensor x = weightTensor(m_bin, t);
            at::Tensor y = weightTensor(m_hf, *h);
            const bool q = t.name.ends_with("q_proj.weight"), k = t.name.ends_with("k_proj.weight");
            if (q || k) {
                // rotate_half row j of each head came from interleaved row pi(j).
                const std::int64_t heads = q ? a.heads : a.kvHeads, hd = a.headDim;
                std::vector<std::int64_t> perm;
                for (std::int64_t h2 = 0; h2 < heads; ++h2)
                    for (std::int64_t j = 0; j < hd; ++j)
                        perm.push_back(h2 * hd + (j < hd / 2 ? 2 * j : 2 * (j - hd / 2) + 1));
                x = x.index_select(0, at::tensor(perm, at::kLong));
                QVERIFY(!at::equal(weightTensor(m_bin, t), y)); // the permutation is not the identity
            }
            QVERIFY2(at::equal(x, y), t.name.c_str());
        }
    }

    void permutationRoundTrip()
    {
        // hd = 8: HF rows 0..7 come from Meta rows 0, 2, 4, 6, 1, 3, 5, 7 (formats.md §7).
        std::vector<std::byte> rows(16), half(16), back(16);
        for (int i = 0; i < 16; ++i)
            rows[i] = std::byte(i);
        permuteInterleavedToHalf(rows.data(), half.data(), 2, 8, 1);
        const int expect[8] = {0, 2, 4, 6, 1, 3, 5, 7};
        for (int j = 0; j < 8; ++j) {
            QCOMPARE(int(half[j]), expect[j]);
            QCOMPARE(int(half[8 + j]), 8 + expect[j]);
        }
        permuteHalfToInterleaved(half.data(), back.data(), 2, 8, 1);
        QVERIFY(rows == back);
    }

private:
    std::shared_ptr<const ModelHandle> m_bin, m_gguf, m_hf;
    QString m_hfDir;
};

QTEST_GUILESS_MAIN(TestCrossFormat)
#include "tst_crossformat.moc"
