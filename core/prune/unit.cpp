#include "unit.h"

#include <charconv>
#include <stdexcept>

namespace blockscope {

std::string unitKindName(UnitKind kind)
{
    switch (kind) {
    case UnitKind::Block: return "block";
    case UnitKind::Attention: return "attn";
    case UnitKind::Mlp: return "mlp";
    }
    return "?";
}

UnitKind unitKindFromName(const std::string &name)
{
    for (UnitKind k : {UnitKind::Block, UnitKind::Attention, UnitKind::Mlp})
        if (name == unitKindName(k))
            return k;
    throw std::invalid_argument("unknown unit kind \"" + name + "\" (expected block, attn or mlp)");
}

std::string Unit::label() const
{
    return unitKindName(kind) + " " + std::to_string(layer);
}

std::string Unit::hfName() const
{
    const std::string block = "model.layers." + std::to_string(layer);
    switch (kind) {
    case UnitKind::Block: return block;
    case UnitKind::Attention: return block + ".self_attn.o_proj";
    case UnitKind::Mlp: return block + ".mlp.down_proj";
    }
    return block;
}

void Unit::applyTo(UnitMask &mask) const
{
    if (layer < 0 || layer >= mask.layers())
        throw std::out_of_range(label() + " is outside a mask of " + std::to_string(mask.layers()) + " layers");
    if (kind != UnitKind::Mlp)
        mask.skipAttn[layer] = true;
    if (kind != UnitKind::Attention)
        mask.skipMlp[layer] = true;
}

Unit unitFromLabel(const std::string &label)
{
    const auto bad = [&] {
        return std::invalid_argument("\"" + label + "\" is not a unit (expected \"block N\", \"attn N\" or \"mlp N\")");
    };
    const auto space = label.find(' ');
    if (space == std::string::npos)
        throw bad();
    UnitKind kind;
    try {
        kind = unitKindFromName(label.substr(0, space));
    } catch (const std::invalid_argument &) {
        throw bad();
    }
    const char *first = label.data() + space + 1;
    const char *last = label.data() + label.size();
    int layer = -1;
    const auto [end, ec] = std::from_chars(first, last, layer);
    if (first == last || ec != std::errc() || end != last || layer < 0)
        throw bad();
    return {kind, layer};
}

std::string unitsLabel(const std::vector<Unit> &units, const char *separator)
{
    std::string s;
    for (const Unit &u : units)
        s += (s.empty() ? "" : separator) + u.label();
    return s;
}

} // namespace blockscope
