#include "whatif.h"

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
    at::Tensor denseLogP; // [N, T-1, V] log-probabilities of the dense model at predicted positions
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
    job.checkpoint();
    at::Tensor z = impl->decoder->forward(impl->tokens, UnitMask::dense(impl->decoder->layers()));
    impl->denseLogP = at::log_softmax(z.narrow(1, 0, T - 1), -1);
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
    const std::int64_t T = d->tokens.size(1), first = d->firstTarget;
    at::Tensor z = d->decoder->forward(d->tokens, mask);
    at::Tensor logQ = at::log_softmax(z.narrow(1, 0, T - 1), -1);
    at::Tensor targets = d->tokens.narrow(1, first, T - first).to(logQ.device());
    at::Tensor nll = -logQ.narrow(1, first - 1, T - first).gather(2, targets.unsqueeze(2)).to(at::kDouble);
    WhatIfResult r;
    r.mask = mask;
    r.tokens = nll.numel();
    const double meanNll = nll.sum().item<double>() / static_cast<double>(r.tokens);
    r.perplexity = std::exp(meanNll); // F2, token-weighted
    r.densePerplexity = d->densePerplexity > 0 ? d->densePerplexity : r.perplexity;
    r.klToDense = (d->denseLogP.exp() * (d->denseLogP - logQ)).sum(-1).to(at::kDouble).mean().item<double>();
    r.protocol = d->protocol;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

} // namespace blockscope
