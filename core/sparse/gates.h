#pragma once

// SeerAttention AttnGates (seerattention.md §1, §8): one small gate per layer that predicts, from
// block-pooled pre-RoPE Q and K, which B x B blocks of the attention map matter. The set owns its
// parameters; no LibTorch in this header.

#include "model/architecture.h"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace blockscope {
class Decoder;
}

namespace blockscope::sparse {

// A gate file that does not fit the model (or is not a gate file): names the file and the field.
class GateMismatch : public std::runtime_error
{
public:
    GateMismatch(const std::string &path, const std::string &field, const std::string &why)
        : std::runtime_error(path + ": " + field + " " + why)
        , m_field(field)
    {
    }
    const std::string &field() const { return m_field; }

private:
    std::string m_field;
};

struct GateConfig
{
    std::string gateType = "Qavg_Kmaxminavg";
    int blockSize = 64;
    std::int64_t gateDim = 0; // d_g; 0 = the model's head dim
    bool forceDouble = false; // W_q present even when d_g = d
    std::int64_t layers = 0, qHeads = 0, kvHeads = 0, headDim = 0;
    RopeLayout ropeLayout = RopeLayout::RotateHalf;
    double ropeTheta = 10000.0;
    std::string ropeScaling; // JSON text or empty
    std::string baseFingerprint; // modelFingerprint() of the base model
    std::string trainRecipe = "{}"; // JSON text: data, steps, lr, seed, loss at end
    std::string createdBy;

    bool hasQueryProjection() const { return forceDouble || gateDim != headDim; }
};

// SHA-256 (hex) of the canonical base config plus the sorted tensor name/shape/dtype list (§8).
std::string modelFingerprint(const Decoder &decoder);

// L·Hq·3d·d_g (+ L·Hq·d·d_g when W_q exists, with W_k then over Hkv heads), §1 / §10.14.
std::int64_t gateParameterCount(const GateConfig &config);

class GateSet
{
public:
    // New gates for `decoder`, W ~ N(0, 0.02) from `seed`, float32 on the decoder's device.
    static GateSet create(const Decoder &decoder, int blockSize, std::uint64_t seed, std::int64_t gateDim = 0);
    // Loads a `.seergate.safetensors` file and checks every field against `decoder`; a mismatch
    // (fingerprint, heads, head dim, layers, RoPE) throws GateMismatch naming the field.
    static GateSet load(const std::string &path, const Decoder &decoder);
    // Only the file's settings (for `inspect`-style listings), without a model to check against.
    static GateConfig readConfig(const std::string &path);

    GateSet(GateSet &&) noexcept;
    GateSet &operator=(GateSet &&) noexcept;
    ~GateSet();

    const GateConfig &config() const;
    GateConfig &config();
    std::int64_t parameterCount() const;
    // Writes the gate file (F32) atomically; the metadata carries `config()`, and the same settings
    // go to a JSON file beside it ("x.seergate.safetensors" -> "x.seergate.json").
    void save(const std::string &path) const;

    struct Impl;
    Impl &impl() const { return *d; }

private:
    explicit GateSet(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

} // namespace blockscope::sparse
