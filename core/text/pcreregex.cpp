#include "pcreregex.h"

#include "common/formaterror.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace blockscope {

struct PcreRegex::Impl
{
    pcre2_code *code = nullptr;
    pcre2_match_context *context = nullptr;
    bool jit = false;

    ~Impl()
    {
        pcre2_match_context_free(context);
        pcre2_code_free(code);
    }
};

namespace {
std::string pcreMessage(int code)
{
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof buffer);
    return reinterpret_cast<const char *>(buffer);
}

// Match data is per call (a tokenizer is shared between threads); reuse one per thread.
struct MatchData
{
    pcre2_match_data *data = pcre2_match_data_create(1, nullptr);
    ~MatchData() { pcre2_match_data_free(data); }
};
} // namespace

PcreRegex::PcreRegex(const std::string &pattern, const std::string &file, std::string field)
    : m(std::make_unique<Impl>())
    , m_pattern(pattern)
    , m_file(file)
    , m_field(std::move(field))
{
    int error = 0;
    PCRE2_SIZE errorOffset = 0;
    m->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP, &error,
        &errorOffset, nullptr);
    if (!m->code)
        throw FormatError(file, FormatError::NoOffset, m_field,
            "regex does not compile at pattern offset " + std::to_string(errorOffset) + ": " + pcreMessage(error));
    // JIT is an optimisation only; the interpreter gives the same matches. Both honour the limit.
    m->jit = pcre2_jit_compile(m->code, PCRE2_JIT_COMPLETE) == 0;
    m->context = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(m->context, MatchLimit);
    pcre2_set_depth_limit(m->context, 100'000);
}

PcreRegex::~PcreRegex() = default;

void PcreRegex::forEachMatch(
    std::string_view subject, const std::function<void(std::size_t, std::size_t)> &onMatch) const
{
    thread_local MatchData md;
    const auto *s = reinterpret_cast<PCRE2_SPTR>(subject.data());
    std::size_t pos = 0;
    while (pos <= subject.size()) {
        const int rc = m->jit
            ? pcre2_jit_match(m->code, s, subject.size(), pos, PCRE2_NO_UTF_CHECK, md.data, m->context)
            : pcre2_match(m->code, s, subject.size(), pos, PCRE2_NO_UTF_CHECK, md.data, m->context);
        if (rc == PCRE2_ERROR_NOMATCH)
            return;
        if (rc < 0)
            throw FormatError(m_file, FormatError::NoOffset, m_field,
                "regex matching failed at text byte " + std::to_string(pos) + ": " + pcreMessage(rc));
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md.data);
        const std::size_t start = ov[0], end = ov[1];
        if (end > start) {
            onMatch(start, end);
            pos = end;
            continue;
        }
        // An empty match: skip one code point so the scan always advances.
        if (start >= subject.size())
            return;
        pos = start + 1;
        while (pos < subject.size() && (static_cast<unsigned char>(subject[pos]) & 0xC0) == 0x80)
            ++pos;
    }
}

} // namespace blockscope
