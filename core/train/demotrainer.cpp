#include "demotrainer.h"

#include "common/atomicfile.h"

#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "model/architecture.h"
#include "model/checkpointexport.h"
#include "model/decoder.h"
#include "model/safetensorswriter.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/generated/variable_factories.h>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

namespace blockscope {

namespace fs = std::filesystem;

namespace {

std::string readAll(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw FormatError(path, FormatError::NoOffset, "corpus", "cannot be read");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.size() < 10000)
        throw FormatError(path, FormatError::NoOffset, "corpus",
            "has " + std::to_string(s.size()) + " bytes; training needs at least 10,000");
    return s;
}

// AdamW (decoupled weight decay) over plain tensors; no decay on norms.
struct AdamW
{
    struct Slot
    {
        at::Tensor p, m, v;
        bool decay;
    };
    std::vector<Slot> slots;
    double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay;
    std::int64_t t = 0;

    explicit AdamW(double wd)
        : weightDecay(wd)
    {
    }
    void add(const at::Tensor &p, bool decay) { slots.push_back({p, at::zeros_like(p), at::zeros_like(p), decay}); }
    void step(double lr)
    {
        c10::NoGradGuard noGrad;
        ++t;
        const double c1 = 1 - std::pow(beta1, static_cast<double>(t)), c2 = 1 - std::pow(beta2, static_cast<double>(t));
        for (auto &s : slots) {
            at::Tensor g = s.p.grad();
            if (!g.defined())
                continue;
            if (s.decay)
                s.p.mul_(1 - lr * weightDecay);
            s.m.mul_(beta1).add_(g, 1 - beta1);
            s.v.mul_(beta2).addcmul_(g, g, 1 - beta2);
            s.p.addcdiv_(s.m / c1, (s.v / c2).sqrt_().add_(eps), -lr);
            g.zero_();
        }
    }
};

} // namespace

DemoTrainingResult trainDemoModel(
    const DemoTrainingOptions &o, JobContext &job, const std::function<void(std::int64_t, double)> &onLoss)
{
    const auto start = std::chrono::steady_clock::now();
    fs::create_directories(o.outDir);
    const std::string text = readAll(o.corpus);

    job.stage("training the tokenizer");
    const std::string prefix = (fs::path(o.outDir) / "tokenizer").string();
    // Byte fallback keeps every input encodable; no normalisation so the text is kept verbatim
    // apart from SentencePiece's whitespace handling.
    const std::string args = "--input=" + o.corpus + " --model_prefix=" + prefix
        + " --model_type=bpe --vocab_size=" + std::to_string(o.vocab)
        + " --byte_fallback=true --character_coverage=1.0 --normalization_rule_name=identity"
          " --remove_extra_whitespaces=false --split_digits=true --max_sentence_length=100000"
          " --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --num_threads=2 --minloglevel=2 "
          "--seed_sentencepiece_size=200000"
          " --input_sentence_size=0 --shuffle_input_sentence=false";
    const auto status = sentencepiece::SentencePieceTrainer::Train(args);
    if (!status.ok())
        throw std::runtime_error("training the tokenizer failed: " + status.ToString());
    fs::remove(prefix + ".vocab");
    sentencepiece::SentencePieceProcessor sp;
    if (!sp.Load(prefix + ".model").ok())
        throw std::runtime_error("cannot load the tokenizer just trained");
    job.checkpoint();

    job.stage("tokenizing the corpus");
    std::vector<int> ids;
    if (!sp.Encode(text, &ids).ok())
        throw std::runtime_error("tokenizing the corpus failed");
    const auto split = static_cast<std::size_t>(static_cast<double>(ids.size()) * (1 - o.validationFraction));
    at::Tensor all = at::tensor(std::vector<std::int64_t>(ids.begin(), ids.end()), at::kLong);
    at::Tensor train = all.narrow(0, 0, static_cast<std::int64_t>(split));
    at::Tensor valid = all.narrow(0, static_cast<std::int64_t>(split), static_cast<std::int64_t>(ids.size() - split));

    Architecture a;
    a.family = "llama";
    a.layers = o.layers;
    a.hidden = o.hidden;
    a.intermediate = o.intermediate;
    a.heads = o.heads;
    a.kvHeads = o.kvHeads;
    a.headDim = o.hidden / o.heads;
    a.vocab = o.vocab;
    a.context = o.context;
    a.rmsNormEps = 1e-5;
    a.ropeTheta = 10000;
    a.ropeLayout = RopeLayout::RotateHalf;
    a.tiedEmbeddings = true;
    a.bosTokenIds = {1};
    a.eosTokenIds = {2};

    at::manual_seed(o.seed);
    std::map<std::string, at::Tensor> weights;
    const double std0 = 0.02, residualStd = 0.02 / std::sqrt(2.0 * static_cast<double>(o.layers));
    auto param = [&](const std::string &name, std::vector<std::int64_t> shape, double stddev) {
        at::Tensor t = stddev > 0 ? at::randn(shape) * stddev : at::ones(shape);
        weights[name] = t.set_requires_grad(true);
    };
    const std::int64_t d = a.hidden, kv = a.kvHeads * a.headDim;
    param("model.embed_tokens.weight", {a.vocab, d}, std0);
    param("model.norm.weight", {d}, 0);
    for (int l = 0; l < a.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        param(p + "input_layernorm.weight", {d}, 0);
        param(p + "post_attention_layernorm.weight", {d}, 0);
        param(p + "self_attn.q_proj.weight", {d, d}, std0);
        param(p + "self_attn.k_proj.weight", {kv, d}, std0);
        param(p + "self_attn.v_proj.weight", {kv, d}, std0);
        param(p + "self_attn.o_proj.weight", {d, d}, residualStd);
        param(p + "mlp.gate_proj.weight", {a.intermediate, d}, std0);
        param(p + "mlp.up_proj.weight", {a.intermediate, d}, std0);
        param(p + "mlp.down_proj.weight", {d, a.intermediate}, residualStd);
    }
    Decoder model(a, weights);
    AdamW opt(o.weightDecay);
    for (auto &[name, w] : weights)
        opt.add(w, w.dim() >= 2);

    std::mt19937_64 rng(o.seed);
    DemoTrainingResult r;
    r.trainTokens = train.numel();
    r.validationTokens = valid.numel();
    const UnitMask dense = UnitMask::dense(static_cast<int>(a.layers));
    job.stage("training the model");
    double smoothed = 0;
    for (std::int64_t step = 0; step < o.steps; ++step) {
        job.checkpoint();
        const bool longStep = o.longEvery > 0 && (step + 1) % o.longEvery == 0;
        const std::int64_t T = longStep ? o.context : o.seqLen;
        const std::int64_t B = longStep ? std::max<std::int64_t>(1, o.batch * o.seqLen / o.context) : o.batch;
        std::uniform_int_distribution<std::int64_t> pick(0, train.numel() - T - 2);
        std::vector<at::Tensor> rows;
        for (std::int64_t b = 0; b < B; ++b)
            rows.push_back(train.narrow(0, pick(rng), T + 1));
        at::Tensor batch = at::stack(rows);
        at::Tensor inputs = batch.narrow(1, 0, T), targets = batch.narrow(1, 1, T);
        at::Tensor logits = model.forward(inputs, dense);
        at::Tensor loss = at::cross_entropy_loss(logits.reshape({-1, a.vocab}), targets.reshape({-1}));
        torch::autograd::backward({loss});
        // Clip the global gradient norm at 1.
        {
            c10::NoGradGuard noGrad;
            double sq = 0;
            for (auto &[n, w] : weights)
                if (w.grad().defined())
                    sq += w.grad().pow(2).sum().item<double>();
            const double norm = std::sqrt(sq);
            if (norm > 1.0)
                for (auto &[n, w] : weights)
                    if (w.grad().defined())
                        w.grad().mul_(1.0 / norm);
        }
        const double progress = static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, o.steps - 1));
        double lr = o.minLr + 0.5 * (o.lr - o.minLr) * (1 + std::cos(M_PI * progress));
        if (step < o.warmup)
            lr = o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup);
        opt.step(lr);
        const double l = loss.item<double>();
        if (step == 0)
            r.firstLoss = smoothed = l;
        smoothed = 0.95 * smoothed + 0.05 * l;
        if (onLoss)
            onLoss(step, l);
        job.progress(static_cast<double>(step + 1), static_cast<double>(o.steps));
    }
    r.finalTrainLoss = smoothed;

    job.stage("validating");
    {
        c10::NoGradGuard noGrad;
        double nll = 0;
        std::int64_t n = 0;
        const std::int64_t T = o.context;
        for (std::int64_t at0 = 0; at0 + T + 1 <= valid.numel(); at0 += T) {
            at::Tensor chunk = valid.narrow(0, at0, T + 1).unsqueeze(0);
            at::Tensor logits = model.forward(chunk.narrow(1, 0, T), dense);
            nll += at::cross_entropy_loss(
                logits.reshape({-1, a.vocab}), chunk.narrow(1, 1, T).reshape({-1}), {}, at::Reduction::Sum)
                       .item<double>();
            n += T;
        }
        r.validationLoss = n ? nll / static_cast<double>(n) : NAN;
        r.validationPerplexity = std::exp(r.validationLoss);
    }

    job.stage("writing the model");
    std::vector<SafetensorsEntry> entries;
    std::vector<at::Tensor> keep;
    for (auto &[name, w] : weights) {
        at::Tensor c = w.detach().contiguous();
        keep.push_back(c);
        entries.push_back({name, DType::F32, c.sizes().vec(),
            std::span(reinterpret_cast<const std::byte *>(c.data_ptr()), static_cast<std::size_t>(c.nbytes()))});
    }
    writeSafetensors((fs::path(o.outDir) / "model.safetensors").string(), std::move(entries));
    writeFileAtomically((fs::path(o.outDir) / "config.json").string(), hfConfigJson(a));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nlohmann::ordered_json info = {
        {"command", o.command},
        {"corpus", fs::path(o.corpus).filename().string()},
        {"corpus_bytes", text.size()},
        {"tokenizer", "SentencePiece BPE, vocab " + std::to_string(o.vocab) + ", byte fallback"},
        {"train_tokens", r.trainTokens},
        {"validation_tokens", r.validationTokens},
        {"steps", o.steps},
        {"batch", o.batch},
        {"seq_len", o.seqLen},
        {"long_every", o.longEvery},
        {"lr", o.lr},
        {"min_lr", o.minLr},
        {"warmup", o.warmup},
        {"weight_decay", o.weightDecay},
        {"seed", o.seed},
        {"first_loss", r.firstLoss},
        {"final_train_loss", r.finalTrainLoss},
        {"validation_loss", r.validationLoss},
        {"validation_perplexity", r.validationPerplexity},
        {"seconds", r.seconds},
    };
    writeFileAtomically((fs::path(o.outDir) / "training.json").string(), info.dump(2) + "\n");
    return r;
}

} // namespace blockscope
