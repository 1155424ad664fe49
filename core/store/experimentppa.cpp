// PPA points in the experiment file: /runs/<id>/ppa/point-NNN and /sweeps/<id>/ppa/point-NNN (README,
// "Experiment file format").
#include "experimentppa.h"
#include "numberednames.h"

#include "common/formaterror.h"

#include <algorithm>
#include <set>

namespace blockscope::ppastore {

namespace {

using h5::Location;

std::string numbered(const std::string &prefix, std::size_t index)
{
    return h5::numberedName(prefix, static_cast<int>(index), 3);
}

// The children of a group named prefix000, prefix001, ... in index order; anything else, or a gap,
// is damage.
std::vector<std::string> numberedChildren(const Location &at, const std::string &prefix)
{
    return h5::numberedChildren(at, prefix, 3, prefix + "NNN group", true);
}

// --- writing --------------------------------------------------------------------------------

std::vector<hsize_t> dims1(std::size_t n)
{
    return {static_cast<hsize_t>(n)};
}

} // namespace

void writeStrings(const Location &at, const std::string &name, const std::vector<std::string> &values)
{
    const std::string object = at.child(name);
    std::size_t longest = 1;
    for (const auto &v : values)
        longest = std::max(longest, v.size());
    const h5::Datatype type = h5::utf8String(longest);
    if (!type.valid())
        at.fail(object, "cannot make a string type");
    const auto dims = dims1(values.size());
    const h5::Dataspace space(H5Screate_simple(1, dims.data(), nullptr));
    if (!space.valid())
        at.fail(object, "cannot make a dataspace");
    h5::Dataset d(H5Dcreate2(at.id, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!d.valid())
        at.fail(object, "cannot create dataset");
    std::string texts(values.size() * longest, '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
        std::copy(values[i].begin(), values[i].end(), texts.begin() + static_cast<std::ptrdiff_t>(i * longest));
    if (!values.empty() && H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()) < 0)
        at.fail(object, "cannot write dataset");
    if (d.close() < 0)
        at.fail(object, "cannot close dataset");
}

namespace {

void writeFigure(const Location &parent, const std::string &name, const ppa::Figure &f)
{
    const h5::Group g = parent.createGroup(name);
    const Location at = parent.at(g, name);
    h5::writeAttribute(at, "value", f.value);
    h5::writeAttribute(at, "min", f.min);
    h5::writeAttribute(at, "max", f.max);
    h5::writeAttribute(at, "runs", std::int32_t(f.runs));
    h5::writeAttribute(at, "provenance", std::string(ppa::provenanceName(f.provenance)));
    h5::writeAttribute(at, "note", f.note);
}

void writeUnits(const Location &parent, const std::vector<ppa::UnitCost> &units)
{
    const h5::Group g = parent.createGroup("units");
    const Location at = parent.at(g, "units");
    std::vector<std::string> names, provenance, notes;
    std::vector<std::int32_t> layers, runs;
    std::vector<std::uint8_t> removed;
    std::vector<std::int64_t> params;
    std::vector<double> stored, prefillFlops, decodeFlops, decodeBytes, seconds, secondsMin, secondsMax, joules;
    std::vector<std::string> joulesProvenance, joulesNotes;
    for (const auto &u : units) {
        names.push_back(u.unit);
        layers.push_back(u.layer);
        removed.push_back(u.removed ? 1 : 0);
        params.push_back(u.params);
        stored.push_back(u.storedBytes);
        prefillFlops.push_back(u.prefillFlopsPerToken);
        decodeFlops.push_back(u.decodeFlopsPerToken);
        decodeBytes.push_back(u.decodeBytesPerToken);
        seconds.push_back(u.seconds.value);
        secondsMin.push_back(u.seconds.min);
        secondsMax.push_back(u.seconds.max);
        runs.push_back(u.seconds.runs);
        provenance.push_back(ppa::provenanceName(u.seconds.provenance));
        notes.push_back(u.seconds.note);
        joules.push_back(u.joulesPerToken.value);
        joulesProvenance.push_back(ppa::provenanceName(u.joulesPerToken.provenance));
        joulesNotes.push_back(u.joulesPerToken.note);
    }
    const auto n = dims1(units.size());
    writeStrings(at, "name", names);
    h5::writeDataset(at, "layer", n, layers);
    h5::writeDataset(at, "removed", n, removed);
    h5::writeDataset(at, "params", n, params);
    h5::writeDataset(at, "stored_bytes", n, stored);
    h5::writeDataset(at, "prefill_flops_per_token", n, prefillFlops);
    h5::writeDataset(at, "decode_flops_per_token", n, decodeFlops);
    h5::writeDataset(at, "decode_bytes_per_token", n, decodeBytes);
    h5::writeDataset(at, "seconds", n, seconds);
    h5::writeDataset(at, "seconds_min", n, secondsMin);
    h5::writeDataset(at, "seconds_max", n, secondsMax);
    h5::writeDataset(at, "seconds_runs", n, runs);
    writeStrings(at, "seconds_provenance", provenance);
    writeStrings(at, "seconds_note", notes);
    h5::writeDataset(at, "joules_per_token", n, joules);
    writeStrings(at, "joules_provenance", joulesProvenance);
    writeStrings(at, "joules_note", joulesNotes);
}

void writeCosts(const Location &parent, const ppa::CostModel &c)
{
    const h5::Group g = parent.createGroup("costs");
    const Location at = parent.at(g, "costs");
    h5::writeAttribute(at, "params_total", std::int64_t(c.paramsTotal));
    h5::writeAttribute(at, "params_kept", std::int64_t(c.paramsKept));
    h5::writeAttribute(at, "stored_bytes", c.storedBytes);
    h5::writeAttribute(at, "compute_bytes", c.computeBytes);
    h5::writeAttribute(at, "kv_bytes_per_token", c.kvBytesPerToken);
    h5::writeAttribute(at, "activation_peak_bytes", c.activationPeakBytes);
    h5::writeAttribute(at, "prefill_flops_per_token", c.prefillFlopsPerToken);
    h5::writeAttribute(at, "prefill_bytes_per_token", c.prefillBytesPerToken);
    h5::writeAttribute(at, "decode_flops_per_token", c.decodeFlopsPerToken);
    h5::writeAttribute(at, "decode_bytes_per_token", c.decodeBytesPerToken);
    std::vector<std::string> dtypes;
    std::vector<double> bytes;
    for (const auto &[dtype, b] : c.storedBytesByDtype) {
        dtypes.push_back(dtype);
        bytes.push_back(b);
    }
    writeStrings(at, "dtypes", dtypes);
    h5::writeDataset(at, "dtype_stored_bytes", dims1(bytes.size()), bytes);
    writeUnits(at, c.units);
}

void writeMeasurement(const Location &parent, const ppa::Measurement &m)
{
    const h5::Group g = parent.createGroup("measured");
    const Location at = parent.at(g, "measured");
    h5::writeAttribute(at, "device", m.device);
    h5::writeAttribute(at, "dtype", m.dtype);
    h5::writeAttribute(at, "threads", std::int32_t(m.threads));
    h5::writeAttribute(at, "batch", std::int32_t(m.batch));
    h5::writeAttribute(at, "seq", std::int32_t(m.seq));
    h5::writeAttribute(at, "decode_tokens", std::int32_t(m.decodeTokens));
    h5::writeAttribute(at, "energy_source", m.energySource);
    writeFigure(at, "prefill_tokens_per_second", m.prefillTokensPerSecond);
    writeFigure(at, "decode_ms_per_token", m.decodeMsPerToken);
    writeFigure(at, "prefill_joules_per_token", m.prefillJoulesPerToken);
    writeFigure(at, "decode_joules_per_token", m.decodeJoulesPerToken);
    writeFigure(at, "peak_memory_bytes", m.peakMemoryBytes);
}

void writePrediction(const Location &at, const ppa::Prediction &p)
{
    h5::writeAttribute(at, "device", p.device);
    h5::writeAttribute(at, "calibrated", std::uint8_t(p.calibrated));
    h5::writeAttribute(at, "prefill_tokens_per_second", p.prefillTokensPerSecond);
    h5::writeAttribute(at, "decode_ms_per_token", p.decodeMsPerToken);
    h5::writeAttribute(at, "prefill_joules_per_token", p.prefillJoulesPerToken);
    h5::writeAttribute(at, "decode_joules_per_token", p.decodeJoulesPerToken);
    h5::writeAttribute(at, "prefill_compute_bound", std::uint8_t(p.prefillComputeBound));
    h5::writeAttribute(at, "decode_compute_bound", std::uint8_t(p.decodeComputeBound));
    h5::writeAttribute(at, "energy_constants_from", p.energyConstantsFrom);
}

void writePoint(const Location &at, const ppa::PpaPoint &p)
{
    h5::writeAttribute(at, "label", p.label);
    h5::writeAttribute(at, "step", std::int32_t(p.step));
    h5::writeAttribute(at, "attention_density", p.attentionDensity);
    h5::writeAttribute(at, "perplexity", p.perplexity);
    h5::writeAttribute(at, "kl_to_dense", p.klToDense);
    h5::writeAttribute(at, "protocol", p.protocol);
    const std::vector<std::uint8_t> attn(p.mask.skipAttn.begin(), p.mask.skipAttn.end());
    const std::vector<std::uint8_t> mlp(p.mask.skipMlp.begin(), p.mask.skipMlp.end());
    h5::writeDataset(at, "skip_attn", dims1(attn.size()), attn);
    h5::writeDataset(at, "skip_mlp", dims1(mlp.size()), mlp);
    writeCosts(at, p.costs);
    if (p.measured)
        writeMeasurement(at, *p.measured);
    const h5::Group g = at.createGroup("predictions");
    const Location predictions = at.at(g, "predictions");
    for (std::size_t i = 0; i < p.predictions.size(); ++i) {
        const std::string name = numbered("prediction-", i);
        const h5::Group pg = predictions.createGroup(name);
        writePrediction(predictions.at(pg, name), p.predictions[i]);
    }
}

// --- reading --------------------------------------------------------------------------------

using h5::read1;
using h5::readFlag;
using h5::requireLength;

ppa::Provenance provenanceFrom(const Location &at, const std::string &object, const std::string &text)
{
    if (text == ppa::provenanceName(ppa::Provenance::Measured))
        return ppa::Provenance::Measured;
    if (text == ppa::provenanceName(ppa::Provenance::Modelled))
        return ppa::Provenance::Modelled;
    if (text == ppa::provenanceName(ppa::Provenance::Derived))
        return ppa::Provenance::Derived;
    at.fail(object, "provenance \"" + text + "\" is not \"measured\", \"modelled\" or \"derived\"", false);
}

} // namespace

// A one-dimensional string dataset: variable-length (as written here and by h5py) or fixed-length
// (NUL-padded, as numpy "S" arrays are).
std::vector<std::string> readStrings(const Location &at, const std::string &name)
{
    const std::string object = at.child(name);
    if (!at.hasLink(name))
        at.fail(object, "missing dataset", false);
    const h5::Dataset d(H5Dopen2(at.id, name.c_str(), H5P_DEFAULT));
    if (!d.valid())
        at.fail(object, "cannot open as a dataset");
    const h5::Dataspace space(H5Dget_space(d.get()));
    if (!space.valid())
        at.fail(object, "cannot read the dataset's shape");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank != 1)
        at.fail(object, "has " + std::to_string(rank) + " dimensions, expected 1", false);
    hsize_t n = 0;
    if (H5Sget_simple_extent_dims(space.get(), &n, nullptr) < 0)
        at.fail(object, "cannot read the dataset's shape");
    const h5::Datatype stored(H5Dget_type(d.get()));
    if (!stored.valid())
        at.fail(object, "cannot read the dataset's type");
    const H5T_class_t typeClass = H5Tget_class(stored.get());
    if (typeClass != H5T_STRING)
        at.fail(object, std::string("has ") + h5::typeName(typeClass) + " values, expected string", false);
    constexpr hsize_t maxCount = hsize_t(1) << 24;
    if (n > maxCount)
        at.fail(object, "is implausibly large", false);
    std::vector<std::string> values;
    if (n == 0)
        return values;
    if (H5Tis_variable_str(stored.get()) > 0) {
        if (at.fixedStringsOnly)
            at.fail(object, "holds variable-length strings, which this format version never writes", false);
        // The stored character set as it is: the bytes are passed through.
        const h5::Datatype memory(H5Tget_native_type(stored.get(), H5T_DIR_DEFAULT));
        std::vector<char *> texts(static_cast<std::size_t>(n), nullptr);
        if (!memory.valid() || H5Dread(d.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()) < 0)
            at.fail(object, "cannot read dataset");
        for (const char *t : texts)
            values.emplace_back(t ? t : "");
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(memory.get(), space.get(), H5P_DEFAULT, texts.data());
#else
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, texts.data());
#endif
        return values;
    }
    const std::size_t size = H5Tget_size(stored.get());
    if (size == 0 || size > (std::size_t(1) << 20))
        at.fail(object, "has strings of an implausible size (" + std::to_string(size) + " bytes)", false);
    if (static_cast<double>(n) * static_cast<double>(size) > double(1u << 30))
        at.fail(object,
            "is implausibly large (" + std::to_string(n) + " strings of " + std::to_string(size) + " bytes)", false);
    std::string bytes(static_cast<std::size_t>(n) * size, '\0');
    if (H5Dread(d.get(), stored.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) < 0)
        at.fail(object, "cannot read dataset");
    for (hsize_t i = 0; i < n; ++i) {
        std::string v = bytes.substr(static_cast<std::size_t>(i) * size, size);
        v.resize(std::min(v.size(), v.find('\0')));
        values.push_back(std::move(v));
    }
    return values;
}

namespace {

ppa::Figure readFigure(const Location &parent, const std::string &name)
{
    const h5::Group g = parent.openGroup(name);
    const Location at = parent.at(g, name);
    ppa::Figure f;
    f.value = h5::readAttribute<double>(at, "value");
    f.min = h5::readAttribute<double>(at, "min");
    f.max = h5::readAttribute<double>(at, "max");
    f.runs = h5::readAttribute<std::int32_t>(at, "runs");
    f.provenance = provenanceFrom(at, at.path + "@provenance", h5::readStringAttribute(at, "provenance"));
    f.note = h5::readStringAttribute(at, "note");
    return f;
}

std::vector<ppa::UnitCost> readUnits(const Location &parent, int layers)
{
    const h5::Group g = parent.openGroup("units");
    const Location at = parent.at(g, "units");
    const auto names = readStrings(at, "name");
    const auto layerIds = read1<std::int32_t>(at, "layer");
    const auto removed = read1<std::uint8_t>(at, "removed");
    const auto params = read1<std::int64_t>(at, "params");
    const auto stored = read1<double>(at, "stored_bytes");
    const auto prefillFlops = read1<double>(at, "prefill_flops_per_token");
    const auto decodeFlops = read1<double>(at, "decode_flops_per_token");
    const auto decodeBytes = read1<double>(at, "decode_bytes_per_token");
    const auto seconds = read1<double>(at, "seconds");
    const auto secondsMin = read1<double>(at, "seconds_min");
    const auto secondsMax = read1<double>(at, "seconds_max");
    const auto runs = read1<std::int32_t>(at, "seconds_runs");
    const auto provenance = readStrings(at, "seconds_provenance");
    const auto notes = readStrings(at, "seconds_note");
    const std::size_t n = names.size();
    requireLength(at, "layer", layerIds.size(), n);
    requireLength(at, "removed", removed.size(), n);
    requireLength(at, "params", params.size(), n);
    requireLength(at, "stored_bytes", stored.size(), n);
    requireLength(at, "prefill_flops_per_token", prefillFlops.size(), n);
    requireLength(at, "decode_flops_per_token", decodeFlops.size(), n);
    requireLength(at, "decode_bytes_per_token", decodeBytes.size(), n);
    requireLength(at, "seconds", seconds.size(), n);
    requireLength(at, "seconds_min", secondsMin.size(), n);
    requireLength(at, "seconds_max", secondsMax.size(), n);
    requireLength(at, "seconds_runs", runs.size(), n);
    requireLength(at, "seconds_provenance", provenance.size(), n);
    requireLength(at, "seconds_note", notes.size(), n);
    // Per-unit energy came later: files without it read with unknown energy.
    std::vector<double> joules;
    std::vector<std::string> joulesProvenance, joulesNotes;
    if (at.hasLink("joules_per_token")) {
        joules = read1<double>(at, "joules_per_token");
        joulesProvenance = readStrings(at, "joules_provenance");
        joulesNotes = readStrings(at, "joules_note");
        requireLength(at, "joules_per_token", joules.size(), n);
        requireLength(at, "joules_provenance", joulesProvenance.size(), n);
        requireLength(at, "joules_note", joulesNotes.size(), n);
    }
    std::vector<ppa::UnitCost> units;
    for (std::size_t i = 0; i < n; ++i) {
        if (layerIds[i] < -1 || layerIds[i] >= layers)
            at.fail(at.child("layer"),
                "layer " + std::to_string(layerIds[i]) + " is neither -1 nor inside a " + std::to_string(layers)
                    + "-layer model",
                false);
        if (removed[i] > 1)
            at.fail(at.child("removed"), "values must be 0 or 1, got " + std::to_string(removed[i]), false);
        ppa::UnitCost u;
        u.unit = names[i];
        u.layer = layerIds[i];
        u.removed = removed[i] == 1;
        u.params = params[i];
        u.storedBytes = stored[i];
        u.prefillFlopsPerToken = prefillFlops[i];
        u.decodeFlopsPerToken = decodeFlops[i];
        u.decodeBytesPerToken = decodeBytes[i];
        u.seconds = {seconds[i], secondsMin[i], secondsMax[i], runs[i],
            provenanceFrom(at, at.child("seconds_provenance"), provenance[i]), notes[i]};
        if (!joules.empty())
            u.joulesPerToken = {joules[i], ppa::NaN, ppa::NaN, 0,
                provenanceFrom(at, at.child("joules_provenance"), joulesProvenance[i]), joulesNotes[i]};
        units.push_back(std::move(u));
    }
    return units;
}

ppa::CostModel readCosts(const Location &parent, int layers)
{
    const h5::Group g = parent.openGroup("costs");
    const Location at = parent.at(g, "costs");
    ppa::CostModel c;
    c.paramsTotal = h5::readAttribute<std::int64_t>(at, "params_total");
    c.paramsKept = h5::readAttribute<std::int64_t>(at, "params_kept");
    c.storedBytes = h5::readAttribute<double>(at, "stored_bytes");
    c.computeBytes = h5::readAttribute<double>(at, "compute_bytes");
    c.kvBytesPerToken = h5::readAttribute<double>(at, "kv_bytes_per_token");
    c.activationPeakBytes = h5::readAttribute<double>(at, "activation_peak_bytes");
    c.prefillFlopsPerToken = h5::readAttribute<double>(at, "prefill_flops_per_token");
    c.prefillBytesPerToken = h5::readAttribute<double>(at, "prefill_bytes_per_token");
    c.decodeFlopsPerToken = h5::readAttribute<double>(at, "decode_flops_per_token");
    c.decodeBytesPerToken = h5::readAttribute<double>(at, "decode_bytes_per_token");
    const auto dtypes = readStrings(at, "dtypes");
    const auto bytes = read1<double>(at, "dtype_stored_bytes");
    requireLength(at, "dtype_stored_bytes", bytes.size(), dtypes.size());
    for (std::size_t i = 0; i < dtypes.size(); ++i)
        if (!c.storedBytesByDtype.emplace(dtypes[i], bytes[i]).second)
            at.fail(at.child("dtypes"), "lists \"" + dtypes[i] + "\" twice", false);
    c.units = readUnits(at, layers);
    return c;
}

ppa::Measurement readMeasurement(const Location &parent)
{
    const h5::Group g = parent.openGroup("measured");
    const Location at = parent.at(g, "measured");
    ppa::Measurement m;
    m.device = h5::readStringAttribute(at, "device");
    m.dtype = h5::readStringAttribute(at, "dtype");
    m.threads = h5::readAttribute<std::int32_t>(at, "threads");
    m.batch = h5::readAttribute<std::int32_t>(at, "batch");
    m.seq = h5::readAttribute<std::int32_t>(at, "seq");
    m.decodeTokens = h5::readAttribute<std::int32_t>(at, "decode_tokens");
    m.energySource = h5::readStringAttribute(at, "energy_source");
    m.prefillTokensPerSecond = readFigure(at, "prefill_tokens_per_second");
    m.decodeMsPerToken = readFigure(at, "decode_ms_per_token");
    m.prefillJoulesPerToken = readFigure(at, "prefill_joules_per_token");
    m.decodeJoulesPerToken = readFigure(at, "decode_joules_per_token");
    m.peakMemoryBytes = readFigure(at, "peak_memory_bytes");
    return m;
}

ppa::Prediction readPrediction(const Location &at)
{
    ppa::Prediction p;
    p.device = h5::readStringAttribute(at, "device");
    p.calibrated = readFlag(at, "calibrated");
    p.prefillTokensPerSecond = h5::readAttribute<double>(at, "prefill_tokens_per_second");
    p.decodeMsPerToken = h5::readAttribute<double>(at, "decode_ms_per_token");
    p.prefillJoulesPerToken = h5::readAttribute<double>(at, "prefill_joules_per_token");
    p.decodeJoulesPerToken = h5::readAttribute<double>(at, "decode_joules_per_token");
    p.prefillComputeBound = readFlag(at, "prefill_compute_bound");
    p.decodeComputeBound = readFlag(at, "decode_compute_bound");
    // Absent from files written before it was recorded: unknown then.
    if (at.hasAttribute("energy_constants_from"))
        p.energyConstantsFrom = h5::readStringAttribute(at, "energy_constants_from");
    return p;
}

std::vector<bool> readBits(const Location &at, const std::string &name, const std::vector<std::uint8_t> &v)
{
    for (auto b : v)
        if (b > 1)
            at.fail(at.child(name), "mask values must be 0 or 1, got " + std::to_string(b), false);
    return std::vector<bool>(v.begin(), v.end());
}

ppa::PpaPoint readPoint(const Location &at, int layers)
{
    ppa::PpaPoint p;
    p.label = h5::readStringAttribute(at, "label");
    p.step = h5::readAttribute<std::int32_t>(at, "step");
    p.attentionDensity = h5::readAttribute<double>(at, "attention_density");
    p.perplexity = h5::readAttribute<double>(at, "perplexity");
    p.klToDense = h5::readAttribute<double>(at, "kl_to_dense");
    p.protocol = h5::readStringAttribute(at, "protocol");
    // A mask is L long, or empty for a point that has none.
    const auto attn = read1<std::uint8_t>(at, "skip_attn");
    const auto mlp = read1<std::uint8_t>(at, "skip_mlp");
    const std::size_t expected = attn.empty() ? 0 : std::size_t(layers);
    requireLength(at, "skip_attn", attn.size(), expected);
    requireLength(at, "skip_mlp", mlp.size(), expected);
    p.mask = {readBits(at, "skip_attn", attn), readBits(at, "skip_mlp", mlp)};
    p.costs = readCosts(at, layers);
    if (at.hasLink("measured"))
        p.measured = readMeasurement(at);
    const h5::Group g = at.openGroup("predictions");
    const Location predictions = at.at(g, "predictions");
    for (const auto &name : numberedChildren(predictions, "prediction-")) {
        const h5::Group pg = predictions.openGroup(name);
        p.predictions.push_back(readPrediction(predictions.at(pg, name)));
    }
    return p;
}

} // namespace

void checkPoints(const std::vector<ppa::PpaPoint> &points, int layers, const std::string &where)
{
    for (std::size_t i = 0; i < points.size(); ++i) {
        const ppa::PpaPoint &p = points[i];
        const auto fail = [&](const std::string &what) {
            throw UsageError(where + ", PPA point " + std::to_string(i) + " (\"" + p.label + "\"): " + what);
        };
        const bool empty = p.mask.skipAttn.empty() && p.mask.skipMlp.empty();
        if (!empty && (p.mask.skipAttn.size() != std::size_t(layers) || p.mask.skipMlp.size() != std::size_t(layers)))
            fail("the mask has " + std::to_string(p.mask.skipAttn.size()) + " attention and "
                + std::to_string(p.mask.skipMlp.size()) + " MLP bits for a " + std::to_string(layers) + "-layer model");
        for (const auto &u : p.costs.units)
            if (u.layer < -1 || u.layer >= layers)
                fail("unit \"" + u.unit + "\" has layer " + std::to_string(u.layer) + ", outside a "
                    + std::to_string(layers) + "-layer model");
    }
}

void writePoints(const Location &run, const std::vector<ppa::PpaPoint> &points)
{
    if (run.hasLink("ppa") && H5Ldelete(run.id, "ppa", H5P_DEFAULT) < 0)
        run.fail(run.child("ppa"), "cannot remove the previous PPA points");
    const h5::Group g = run.createGroup("ppa");
    const Location at = run.at(g, "ppa");
    for (std::size_t i = 0; i < points.size(); ++i) {
        const std::string name = numbered("point-", i);
        const h5::Group pg = at.createGroup(name);
        writePoint(at.at(pg, name), points[i]);
    }
}

std::vector<ppa::PpaPoint> readPoints(const Location &run, int layers)
{
    if (!run.hasLink("ppa"))
        return {};
    const h5::Group g = run.openGroup("ppa");
    const Location at = run.at(g, "ppa");
    std::vector<ppa::PpaPoint> points;
    for (const auto &name : numberedChildren(at, "point-")) {
        const h5::Group pg = at.openGroup(name);
        points.push_back(readPoint(at.at(pg, name), layers));
    }
    return points;
}

} // namespace blockscope::ppastore
