#include "exporttesthelpers.h"

#include "eval/runsetup.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "model/safetensorswriter.h"
#include "text/tokenizer.h"

#include <ATen/ATen.h>
#include <QFile>
#include <c10/core/GradMode.h>

#include <cstring>
#include <stdexcept>

namespace blockscope::test {

ReloadAgreement writeExportReference(const QString &modelPath, const UnitMask &mask, const QString &textPath,
    int keptLayers, const QString &out, const QString &reloaded, bool logitsOfReloaded)
{
    c10::NoGradGuard noGrad;
    const auto model = ModelHandle::open(modelPath.toStdString());
    const Decoder decoder(model, decoderOptionsFor("cpu", "float32"));
    QFile f(textPath);
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot read " + textPath.toStdString());
    const std::string text = QString::fromUtf8(f.read(1200)).left(600).toStdString();
    const auto tokenizer = loadTokenizerFor(*model);
    const std::vector<std::int32_t> ids = tokenizer->encode(text);
    constexpr std::int64_t B = 2, T = 40;
    if (static_cast<std::int64_t>(ids.size()) < B * T)
        throw std::runtime_error("the text gives only " + std::to_string(ids.size()) + " tokens");
    at::Tensor tokens = at::empty({B, T}, at::kLong);
    for (std::int64_t i = 0; i < B * T; ++i)
        tokens.view({-1})[i] = ids[static_cast<std::size_t>(i)];
    const at::Tensor masked = decoder.forward(tokens, mask).contiguous();
    const at::Tensor dense = decoder.forward(tokens, UnitMask::dense(decoder.layers())).contiguous();
    ReloadAgreement agreement;
    at::Tensor logits = masked;
    if (!reloaded.isEmpty()) {
        const Decoder back(ModelHandle::open(reloaded.toStdString()), decoderOptionsFor("cpu", "float32"));
        if (back.layers() != keptLayers)
            throw std::runtime_error("the export has " + std::to_string(back.layers()) + " layers, "
                + std::to_string(keptLayers) + " expected");
        const at::Tensor own = back.forward(tokens, UnitMask::dense(back.layers())).contiguous();
        agreement.maxDiff = (own - masked).abs().max().item<double>();
        agreement.top1 = own.argmax(-1).eq(masked.argmax(-1)).to(at::kDouble).mean().item<double>();
        if (logitsOfReloaded)
            logits = own;
    }
    at::Tensor textIds = at::empty({static_cast<std::int64_t>(ids.size())}, at::kLong);
    for (std::size_t i = 0; i < ids.size(); ++i)
        textIds[static_cast<std::int64_t>(i)] = ids[i];
    const auto bytes = [](const at::Tensor &t) {
        return std::span<const std::byte>(static_cast<const std::byte *>(t.data_ptr()), t.nbytes());
    };
    const auto shape = [](const at::Tensor &t) { return t.sizes().vec(); };
    writeSafetensors(out.toStdString(),
        {{"input_ids", DType::I64, shape(tokens), bytes(tokens)}, {"logits", DType::F32, shape(logits), bytes(logits)},
            {"dense_logits", DType::F32, shape(dense), bytes(dense)},
            {"text_ids", DType::I64, shape(textIds), bytes(textIds)}},
        {{"text", text}, {"dense", mask.skippedUnits() == 0 ? "1" : "0"}, {"layers", std::to_string(keptLayers)}});
    return agreement;
}

} // namespace blockscope::test
