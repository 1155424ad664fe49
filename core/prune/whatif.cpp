#include "whatif.h"

#include "calibrationscorer.h"
#include "common/formaterror.h"
#include "eval/runsetup.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "text/tokenizer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <chrono>
#include <cmath>

namespace blockscope {

struct WhatIfEvaluator::Impl
{
    Options options;
    std::shared_ptr<const ModelHandle> model;
    std::unique_ptr<Decoder> decoder;
    Protocol protocol;
    at::Tensor tokens; // [N, T]
    std::int64_t firstTarget = 1;
    // The dense model's final hidden states [N, T, d], one tensor per forward batch: d numbers a
    // position, not V; its log-probabilities are recomputed a slice of positions at a time.
    std::vector<at::Tensor> denseHidden;
    std::int64_t perBatch = 1; // windows per forward batch
    double densePerplexity = 0;
};

WhatIfEvaluator::WhatIfEvaluator(std::unique_ptr<Impl> impl)
    : d(std::move(impl))
{
}

WhatIfEvaluator::~WhatIfEvaluator() = default;

int WhatIfEvaluator::layers() const
{
    return d->decoder->layers();
}

const WhatIfEvaluator::Options &WhatIfEvaluator::options() const
{
    return d->options;
}

std::shared_ptr<WhatIfEvaluator> WhatIfEvaluator::create(const Options &options, JobContext &job)
{
    c10::NoGradGuard noGrad;
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    job.stage("what-if: opening the model");
    impl->model = ModelHandle::open(options.modelPath);
    const Architecture &a = impl->model->architecture();
    impl->protocol = resolveProtocol(options.protocol, options.context, 0, a.context);
    impl->protocol.device = options.device;
    const auto tokenizer = loadTokenizerFor(*impl->model, options.tokenizerPath);
    job.stage("what-if: tokenizing");
    WindowSet set = windowsForText(options.textPath, *tokenizer, impl->protocol, TextPool::Evaluation, options.windows);
    impl->protocol = set.protocol;
    impl->decoder = std::make_unique<Decoder>(impl->model, decoderOptionsFor(options.device, "float32"));
    // Equal-length windows only (all protocols here cut full windows): one batch.
    const auto T = static_cast<std::int64_t>(set.windows.front().ids.size());
    std::vector<std::size_t> keep;
    for (std::size_t i = 0; i < set.windows.size(); ++i)
        if (static_cast<std::int64_t>(set.windows[i].ids.size()) == T
            && set.windows[i].firstTarget == set.windows.front().firstTarget)
            keep.push_back(i);
    impl->firstTarget = set.windows.front().firstTarget;
    impl->tokens = at::empty({static_cast<std::int64_t>(keep.size()), T}, at::kLong);
    auto acc = impl->tokens.accessor<std::int64_t, 2>();
    for (std::size_t b = 0; b < keep.size(); ++b)
        for (std::int64_t p = 0; p < T; ++p)
            acc[static_cast<std::int64_t>(b)][p] = set.windows[keep[b]].ids[p];
    job.stage("what-if: dense reference");
    impl->perBatch = static_cast<std::int64_t>(windowsPerBatch(*impl->decoder, T, 0));
    const UnitMask dense = UnitMask::dense(impl->decoder->layers());
    for (std::int64_t b0 = 0; b0 < impl->tokens.size(0); b0 += impl->perBatch) {
        job.checkpoint();
        const at::Tensor batch = impl->tokens.narrow(0, b0, std::min(impl->perBatch, impl->tokens.size(0) - b0));
        impl->denseHidden.push_back(
            impl->decoder->forwardBlocks(impl->decoder->embed(batch), 0, impl->decoder->layers(), dense));
    }
    auto self = std::shared_ptr<WhatIfEvaluator>(new WhatIfEvaluator(std::move(impl)));
    self->d->densePerplexity = self->evaluate(UnitMask::dense(self->layers()), job).perplexity;
    return self;
}

WhatIfResult WhatIfEvaluator::evaluate(const UnitMask &mask, JobContext &job) const
{
    c10::NoGradGuard noGrad;
    if (mask.layers() != layers())
        throw UsageError("the configuration has " + std::to_string(mask.layers()) + " blocks, the model "
            + std::to_string(layers()));
    const auto start = std::chrono::steady_clock::now();
    job.checkpoint();
    const std::int64_t N = d->tokens.size(0), T = d->tokens.size(1), first = d->firstTarget;
    const bool isDense = mask.skippedUnits() == 0;
    double nllSum = 0, klSum = 0;
    for (std::size_t g = 0; g < d->denseHidden.size(); ++g) {
        job.checkpoint();
        const std::int64_t b0 = static_cast<std::int64_t>(g) * d->perBatch;
        const at::Tensor batch = d->tokens.narrow(0, b0, std::min(d->perBatch, N - b0));
        const at::Tensor &denseHidden = d->denseHidden[g];
        const at::Tensor hidden = isDense
            ? denseHidden
            : d->decoder->forwardBlocks(d->decoder->embed(batch), 0, d->decoder->layers(), mask);
        const HiddenQuality q
            = qualityFromHidden(*d->decoder, batch, first, hidden, isDense ? at::Tensor() : denseHidden);
        nllSum += q.nllSums.sum().item<double>();
        klSum += q.klSum;
    }
    WhatIfResult r;
    r.mask = mask;
    r.tokens = N * (T - first);
    r.perplexity = std::exp(nllSum / static_cast<double>(r.tokens)); // F2, token-weighted
    r.densePerplexity = d->densePerplexity > 0 ? d->densePerplexity : r.perplexity;
    r.klToDense = klSum / static_cast<double>(N * (T - 1));
    r.protocol = d->protocol;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

} // namespace blockscope
