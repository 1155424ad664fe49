#include "attentionsnapshot.h"

#include "attentionkernels.h"
#include "common/formaterror.h"
#include "eval/runsetup.h"
#include "gateimpl.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "sparseeval.h"
#include "text/tokenizer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <cstring>
#include <optional>

namespace blockscope::sparse {

namespace {

std::vector<float> toVector(const at::Tensor &t)
{
    at::Tensor c = t.detach().to(at::kCPU, at::kFloat).contiguous();
    return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Σ over the query tokens of each block: [H, N, nb] -> [H, nb, nb].
at::Tensor sumOverQueryBlocks(const at::Tensor &mass, int B)
{
    const auto H = mass.size(0), N = mass.size(1), nb = mass.size(2);
    at::Tensor padded = at::constant_pad_nd(mass, {0, 0, 0, nb * B - N}, 0.0);
    return padded.view({H, nb, B, nb}).sum(2);
}

void meanInto(HeadAttention &mean, const std::vector<HeadAttention> &heads)
{
    auto average = [&](auto member) {
        const auto &first = heads.front().*member;
        auto out = first;
        for (std::size_t h = 1; h < heads.size(); ++h) {
            const auto &other = heads[h].*member;
            for (std::size_t i = 0; i < out.size(); ++i)
                out[i] += other[i];
        }
        for (auto &v : out)
            v /= static_cast<float>(heads.size());
        return out;
    };
    auto averageGrid = [&](BlockGrid HeadAttention::*member) {
        BlockGrid g = heads.front().*member;
        if (g.nb == 0)
            return g;
        for (std::size_t h = 1; h < heads.size(); ++h)
            for (std::size_t i = 0; i < g.values.size(); ++i)
                g.values[i] += (heads[h].*member).values[i];
        for (auto &v : g.values)
            v /= static_cast<float>(heads.size());
        return g;
    };
    mean.truth = averageGrid(&HeadAttention::truth);
    mean.gateLogits = averageGrid(&HeadAttention::gateLogits);
    mean.gateProbs = averageGrid(&HeadAttention::gateProbs);
    mean.blockMass = averageGrid(&HeadAttention::blockMass);
    mean.tokenMass = average(&HeadAttention::tokenMass);
    mean.tokenProbs = average(&HeadAttention::tokenProbs);
}

} // namespace

LayerAttentionSnapshot computeAttentionSnapshot(const Decoder &decoder, const std::vector<std::int64_t> &tokens,
    const std::vector<std::string> &tokenTexts, int layer, const GateSet *gates, const SnapshotOptions &options,
    JobContext *job)
{
    c10::NoGradGuard noGrad;
    if (tokens.empty())
        throw UsageError("the text is empty: there is no attention to show");
    if (layer < 0 || layer >= decoder.layers())
        throw UsageError("layer " + std::to_string(layer) + " does not exist; the model has layers 0.."
            + std::to_string(decoder.layers() - 1));
    checkNoSlidingWindow(decoder, static_cast<std::int64_t>(tokens.size()), "the attention map");
    const int B = gates ? gates->config().blockSize : options.blockSize;
    if (B <= 0)
        throw UsageError("block size must be positive");
    LayerAttentionSnapshot snap;
    snap.layer = layer;
    snap.tokens = static_cast<int>(tokens.size());
    snap.blockSize = B;
    snap.nb = (snap.tokens + B - 1) / B;
    snap.hasGates = gates != nullptr;
    snap.tokenTexts = tokenTexts;
    if (job)
        job->stage("attention: running the model");
    ForwardCapture cap;
    cap.attentionHook = [&](const AttentionInputs &in) -> at::Tensor {
        if (in.layer != layer)
            return {};
        if (job)
            job->stage("attention: block maps");
        const std::int64_t H = in.queries.size(1), N = in.queries.size(2), nb = snap.nb;
        const bool keepTokenMass = H * N * nb <= options.tokenMassLimit;
        BlockAttentionMaps maps = blockAttentionMaps(in.queries.to(at::kFloat), in.keys.to(at::kFloat),
            in.values.to(at::kFloat), B, in.scale, /*withMass=*/true);
        at::Tensor truth = maps.truth[0].cpu(), mass = maps.mass[0].cpu();
        at::Tensor blockMass = sumOverQueryBlocks(mass, B);
        at::Tensor S, probs;
        if (gates) {
            S = gates->impl().logits(in)[0].cpu();
        }
        at::Tensor P;
        if (N <= options.tokenViewLimit) {
            at::Tensor k = in.keys.to(at::kFloat);
            if (k.size(1) != H)
                k = k.repeat_interleave(H / k.size(1), 1);
            at::Tensor s = at::matmul(in.queries.to(at::kFloat), k.transpose(-2, -1))[0] * in.scale;
            at::Tensor causal = at::ones({N, N}, at::kBool).triu(1).to(s.device());
            P = at::softmax(s.masked_fill(causal, -INFINITY), -1).cpu();
        }
        for (std::int64_t h = 0; h < H; ++h) {
            HeadAttention ha;
            ha.truth = toGrid(truth[h]);
            ha.blockMass = toGrid(blockMass[h]);
            if (keepTokenMass)
                ha.tokenMass = toVector(mass[h]);
            if (S.defined()) {
                ha.gateLogits = toGrid(S[h]);
                ha.gateProbs = rowSoftmax(ha.gateLogits);
            }
            if (P.defined())
                ha.tokenProbs = toVector(P[h]);
            snap.heads.push_back(std::move(ha));
        }
        meanInto(snap.meanOverHeads, snap.heads);
        return {};
    };
    at::Tensor ids = at::tensor(tokens, at::kLong).unsqueeze(0);
    decoder.forwardBlocks(decoder.embed(ids), 0, layer + 1, UnitMask::dense(decoder.layers()), &cap);
    return snap;
}

struct AttentionSession::Impl
{
    Options options;
    std::shared_ptr<const ModelHandle> model;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<Decoder> decoder;
    std::optional<GateSet> gates;
};

AttentionSession::AttentionSession(const Options &options)
    : d(std::make_unique<Impl>())
{
    d->options = options;
    d->model = ModelHandle::open(options.modelPath);
    d->tokenizer = loadTokenizerFor(*d->model, options.tokenizerPath);
    d->decoder = std::make_unique<Decoder>(d->model, decoderOptionsFor(options.device, "float32"));
    if (!options.gatesPath.empty())
        d->gates = GateSet::load(options.gatesPath, *d->decoder);
}

AttentionSession::~AttentionSession() = default;

const AttentionSession::Options &AttentionSession::options() const
{
    return d->options;
}
int AttentionSession::layers() const
{
    return d->decoder->layers();
}
int AttentionSession::heads() const
{
    return static_cast<int>(d->decoder->architecture().heads);
}
int AttentionSession::kvHeads() const
{
    return static_cast<int>(d->decoder->architecture().kvHeads);
}
bool AttentionSession::hasGates() const
{
    return d->gates.has_value();
}
int AttentionSession::gateBlockSize() const
{
    return d->gates ? d->gates->config().blockSize : 0;
}

void AttentionSession::setGates(const std::string &gatesPath)
{
    if (gatesPath.empty()) {
        d->gates.reset();
        d->options.gatesPath.clear();
        return;
    }
    GateSet loaded = GateSet::load(gatesPath, *d->decoder); // throws before anything changes
    d->gates = std::move(loaded);
    d->options.gatesPath = gatesPath;
}

LayerAttentionSnapshot AttentionSession::snapshot(
    const std::string &text, int layer, const SnapshotOptions &options, JobContext *job, bool *truncated)
{
    if (job)
        job->stage("attention: tokenizing");
    std::vector<std::int32_t> ids = d->tokenizer->encode(text);
    std::vector<std::int64_t> tokens;
    if (d->tokenizer->bosId()) // as the evaluation protocols do: [BOS] + text
        tokens.push_back(*d->tokenizer->bosId());
    for (auto id : ids)
        tokens.push_back(id);
    // Positions past the trained context give attention the model never learned: cut there too.
    std::int64_t limit = std::max(1, d->options.maxTokens);
    if (const std::int64_t context = d->decoder->architecture().context; context > 0)
        limit = std::min(limit, context);
    const auto cap = static_cast<std::size_t>(limit);
    if (truncated)
        *truncated = tokens.size() > cap;
    if (tokens.size() > cap)
        tokens.resize(cap);
    std::vector<std::string> texts;
    texts.reserve(tokens.size());
    for (auto t : tokens) {
        const std::int32_t one = static_cast<std::int32_t>(t);
        texts.push_back(d->tokenizer->decode(std::span<const std::int32_t>(&one, 1)));
    }
    return computeAttentionSnapshot(*d->decoder, tokens, texts, layer, d->gates ? &*d->gates : nullptr, options, job);
}

} // namespace blockscope::sparse
