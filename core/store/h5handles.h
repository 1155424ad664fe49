#pragma once

// The HDF5 C API behind RAII handles, and typed reads and writes that turn every HDF5 failure into
// a FormatError naming the file and the object. Included only by core/store sources: HDF5's
// include directories are private to core.

#include "common/formaterror.h"

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace blockscope::h5 {

template<herr_t (*Close)(hid_t)>
class Handle
{
public:
    Handle() = default;
    explicit Handle(hid_t id)
        : m_id(id)
    {
    }
    Handle(Handle &&other) noexcept
        : m_id(std::exchange(other.m_id, H5I_INVALID_HID))
    {
    }
    Handle &operator=(Handle &&other) noexcept
    {
        if (this != &other) {
            reset();
            m_id = std::exchange(other.m_id, H5I_INVALID_HID);
        }
        return *this;
    }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    ~Handle() { reset(); }

    hid_t get() const { return m_id; }
    bool valid() const { return m_id >= 0; }
    // Closes now and returns HDF5's verdict: closing a file is where its buffers are written.
    herr_t close() { return m_id >= 0 ? Close(std::exchange(m_id, H5I_INVALID_HID)) : 0; }

private:
    void reset()
    {
        if (m_id >= 0)
            Close(std::exchange(m_id, H5I_INVALID_HID));
    }
    hid_t m_id = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using Attribute = Handle<H5Aclose>;
using PropertyList = Handle<H5Pclose>;

// The innermost message on this thread's HDF5 error stack ("truncated file: eof = ...").
inline std::string lastError()
{
    std::string message;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_UPWARD,
        [](unsigned n, const H5E_error2_t *e, void *out) -> herr_t {
            if (n == 0 && e && e->desc)
                *static_cast<std::string *>(out) = e->desc;
            return 0;
        },
        &message);
    return message;
}

// A group (or the root) of an open file, with its HDF5 path and the file's name for messages.
struct Location
{
    const std::string *file;
    hid_t id;
    std::string path;
    // Format 2 and later write only fixed-length strings: a variable-length one there is damage,
    // refused without reading it (libhdf5's global-heap reader is where damaged files crash it).
    bool fixedStringsOnly = false;

    std::string child(const std::string &name) const { return path == "/" ? "/" + name : path + "/" + name; }

    [[noreturn]] void fail(const std::string &object, const std::string &message, bool withHdf5Error = true) const
    {
        std::string text = message;
        if (withHdf5Error) {
            const std::string detail = lastError();
            if (!detail.empty())
                text += " (HDF5: " + detail + ")";
        }
        throw FormatError(*file, FormatError::NoOffset, object, text);
    }

    bool hasLink(const std::string &name) const { return H5Lexists(id, name.c_str(), H5P_DEFAULT) > 0; }
    bool hasAttribute(const std::string &name) const { return H5Aexists(id, name.c_str()) > 0; }

    Group openGroup(const std::string &name) const
    {
        if (!hasLink(name))
            fail(child(name), "missing group", false);
        Group g(H5Gopen2(id, name.c_str(), H5P_DEFAULT));
        if (!g.valid())
            fail(child(name), "cannot open as a group");
        return g;
    }
    Location at(const Group &g, const std::string &name) const
    {
        return {file, g.get(), child(name), fixedStringsOnly};
    }

    Group createGroup(const std::string &name) const
    {
        Group g(H5Gcreate2(id, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        if (!g.valid())
            fail(child(name), "cannot create group");
        return g;
    }

    // Names of the links in this group, in byte order.
    std::vector<std::string> children() const
    {
        H5G_info_t info;
        if (H5Gget_info(id, &info) < 0)
            fail(path, "cannot list group");
        std::vector<std::string> names;
        for (hsize_t i = 0; i < info.nlinks; ++i) {
            const ssize_t size = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
            if (size < 0)
                fail(path, "cannot read the name of link " + std::to_string(i));
            std::string name(static_cast<std::size_t>(size), '\0');
            if (H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT)
                < 0)
                fail(path, "cannot read the name of link " + std::to_string(i));
            names.push_back(std::move(name));
        }
        return names;
    }
};

// File (little-endian) and memory types of the element types the experiment file uses.
template<class T>
struct Type
{
    static constexpr int index = std::is_same_v<T, std::int8_t> ? 0
        : std::is_same_v<T, std::uint8_t>                       ? 1
        : std::is_same_v<T, std::int32_t>                       ? 2
        : std::is_same_v<T, std::int64_t>                       ? 3
        : std::is_same_v<T, double>                             ? 4
                                                                : -1;
    static_assert(index >= 0, "not an element type of the experiment file");
    static constexpr H5T_class_t typeClass = std::is_floating_point_v<T> ? H5T_FLOAT : H5T_INTEGER;
    static hid_t file()
    {
        const hid_t types[] = {H5T_STD_I8LE, H5T_STD_U8LE, H5T_STD_I32LE, H5T_STD_I64LE, H5T_IEEE_F64LE};
        return types[index];
    }
    static hid_t memory()
    {
        const hid_t types[]
            = {H5T_NATIVE_INT8, H5T_NATIVE_UINT8, H5T_NATIVE_INT32, H5T_NATIVE_INT64, H5T_NATIVE_DOUBLE};
        return types[index];
    }
};

inline const char *typeName(H5T_class_t c)
{
    return c == H5T_INTEGER ? "integer" : c == H5T_FLOAT ? "floating-point" : c == H5T_STRING ? "string" : "other";
}

// A stored type is accepted when its class matches and its values fit the memory type without
// rounding: an integer no wider than the one we read into (h5py may write narrower ones).
template<class T>
void checkType(const Location &at, const std::string &object, hid_t storedType)
{
    const H5T_class_t stored = H5Tget_class(storedType);
    if (stored != Type<T>::typeClass)
        at.fail(object, std::string("has ") + typeName(stored) + " values, expected " + typeName(Type<T>::typeClass),
            false);
    if (H5Tget_size(storedType) > sizeof(T))
        at.fail(object,
            "has " + std::to_string(H5Tget_size(storedType)) + "-byte values, expected at most "
                + std::to_string(sizeof(T)),
            false);
}

// A fixed-length UTF-8 string type of `bytes` bytes (at least 1), NUL-padded. Format 2 writes
// every string this way: fixed-length values live in the object header or the dataset itself,
// not in HDF5's global heap, whose reader libhdf5 1.10 crashes or spins in on damaged files.
inline Datatype utf8String(std::size_t bytes)
{
    Datatype t(H5Tcopy(H5T_C_S1));
    if (t.valid() && H5Tset_size(t.get(), std::max<std::size_t>(bytes, 1)) >= 0
        && H5Tset_strpad(t.get(), H5T_STR_NULLPAD) >= 0 && H5Tset_cset(t.get(), H5T_CSET_UTF8) >= 0)
        return t;
    return Datatype();
}

// Attributes: scalars, replaced when they exist.
inline Attribute createAttribute(const Location &at, const std::string &name, hid_t type)
{
    if (at.hasAttribute(name) && H5Adelete(at.id, name.c_str()) < 0)
        at.fail(at.path + "@" + name, "cannot replace attribute");
    Dataspace space(H5Screate(H5S_SCALAR));
    Attribute a(
        space.valid() ? H5Acreate2(at.id, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID);
    if (!a.valid())
        at.fail(at.path + "@" + name, "cannot create attribute");
    return a;
}

template<class T>
void writeAttribute(const Location &at, const std::string &name, T value)
{
    Attribute a = createAttribute(at, name, Type<T>::file());
    if (H5Awrite(a.get(), Type<T>::memory(), &value) < 0 || a.close() < 0)
        at.fail(at.path + "@" + name, "cannot write attribute");
}

inline void writeAttribute(const Location &at, const std::string &name, const std::string &value)
{
    Datatype type = utf8String(value.size());
    if (!type.valid())
        at.fail(at.path + "@" + name, "cannot make a string type");
    Attribute a = createAttribute(at, name, type.get());
    std::string padded = value;
    padded.resize(std::max<std::size_t>(value.size(), 1), '\0');
    if (H5Awrite(a.get(), type.get(), padded.data()) < 0 || a.close() < 0)
        at.fail(at.path + "@" + name, "cannot write attribute");
}

inline Attribute openAttribute(const Location &at, const std::string &name)
{
    const std::string object = at.path + "@" + name;
    if (!at.hasAttribute(name))
        at.fail(object, "missing attribute", false);
    Attribute a(H5Aopen(at.id, name.c_str(), H5P_DEFAULT));
    if (!a.valid())
        at.fail(object, "cannot open attribute");
    Dataspace space(H5Aget_space(a.get()));
    if (!space.valid() || H5Sget_simple_extent_npoints(space.get()) != 1)
        at.fail(object, "must hold exactly one value", false);
    return a;
}

template<class T>
T readAttribute(const Location &at, const std::string &name)
{
    const std::string object = at.path + "@" + name;
    Attribute a = openAttribute(at, name);
    Datatype stored(H5Aget_type(a.get()));
    if (!stored.valid())
        at.fail(object, "cannot read the attribute's type");
    checkType<T>(at, object, stored.get());
    T value{};
    if (H5Aread(a.get(), Type<T>::memory(), &value) < 0)
        at.fail(object, "cannot read attribute");
    return value;
}

inline std::string readStringAttribute(const Location &at, const std::string &name)
{
    const std::string object = at.path + "@" + name;
    Attribute a = openAttribute(at, name);
    Datatype stored(H5Aget_type(a.get()));
    if (!stored.valid() || H5Tget_class(stored.get()) != H5T_STRING)
        at.fail(object, "must be a string", false);
    if (H5Tis_variable_str(stored.get()) > 0) {
        if (at.fixedStringsOnly)
            at.fail(object, "is a variable-length string, which this format version never writes", false);
        // The stored character set (ASCII or UTF-8) as it is: the bytes are passed through.
        Datatype memory(H5Tget_native_type(stored.get(), H5T_DIR_DEFAULT));
        char *text = nullptr;
        if (!memory.valid() || H5Aread(a.get(), memory.get(), &text) < 0)
            at.fail(object, "cannot read attribute");
        std::string value = text ? text : "";
        H5free_memory(text);
        return value;
    }
    // Fixed-length strings (format 2, and other tools): NUL- or space-padded.
    const std::size_t size = H5Tget_size(stored.get());
    if (size > (std::size_t(1) << 24))
        at.fail(object, "has an implausible size (" + std::to_string(size) + " bytes)", false);
    std::string value(size, '\0');
    if (size > 0 && H5Aread(a.get(), stored.get(), value.data()) < 0)
        at.fail(object, "cannot read attribute");
    value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
    return value;
}

// Datasets: contiguous arrays of any rank; a zero-sized dimension makes an empty dataset.
template<class T>
void writeDataset(
    const Location &at, const std::string &name, const std::vector<hsize_t> &dims, const std::vector<T> &values)
{
    const std::string object = at.child(name);
    Dataspace space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    if (!space.valid())
        at.fail(object, "cannot make a dataspace");
    Dataset d(H5Dcreate2(at.id, name.c_str(), Type<T>::file(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!d.valid())
        at.fail(object, "cannot create dataset");
    if (!values.empty() && H5Dwrite(d.get(), Type<T>::memory(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        at.fail(object, "cannot write dataset");
    if (d.close() < 0)
        at.fail(object, "cannot close dataset");
}

// Reads a dataset of `rank` dimensions; its shape comes back in `dims`.
template<class T>
std::vector<T> readDataset(const Location &at, const std::string &name, int rank, std::vector<hsize_t> &dims)
{
    const std::string object = at.child(name);
    if (!at.hasLink(name))
        at.fail(object, "missing dataset", false);
    Dataset d(H5Dopen2(at.id, name.c_str(), H5P_DEFAULT));
    if (!d.valid())
        at.fail(object, "cannot open as a dataset");
    Dataspace space(H5Dget_space(d.get()));
    if (!space.valid())
        at.fail(object, "cannot read the dataset's shape");
    const int storedRank = H5Sget_simple_extent_ndims(space.get());
    if (storedRank != rank)
        at.fail(object, "has " + std::to_string(storedRank) + " dimensions, expected " + std::to_string(rank), false);
    dims.assign(static_cast<std::size_t>(rank), 0);
    if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        at.fail(object, "cannot read the dataset's shape");
    Datatype stored(H5Dget_type(d.get()));
    if (!stored.valid())
        at.fail(object, "cannot read the dataset's type");
    checkType<T>(at, object, stored.get());
    // A damaged shape must not turn into a huge allocation before HDF5 gets to refuse the read.
    constexpr hsize_t maxBytes = hsize_t(1) << 32;
    hsize_t count = 1;
    for (hsize_t n : dims) {
        if (n != 0 && count > maxBytes / sizeof(T) / n)
            at.fail(object, "is implausibly large", false);
        count *= n;
    }
    std::vector<T> values(static_cast<std::size_t>(count));
    if (count > 0 && H5Dread(d.get(), Type<T>::memory(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        at.fail(object, "cannot read dataset");
    return values;
}

// A one-dimensional dataset.
template<class T>
std::vector<T> read1(const Location &at, const std::string &name)
{
    std::vector<hsize_t> dims;
    return readDataset<T>(at, name, 1, dims);
}

// A 0/1 attribute; anything else is damage.
inline bool readFlag(const Location &at, const std::string &name)
{
    const auto v = readAttribute<std::uint8_t>(at, name);
    if (v > 1)
        at.fail(at.path + "@" + name, "must be 0 or 1, got " + std::to_string(v), false);
    return v == 1;
}

// Refuses a dataset whose length disagrees with another's.
inline void requireLength(const Location &at, const std::string &name, std::size_t actual, std::size_t expected)
{
    if (actual != expected)
        at.fail(
            at.child(name), "has " + std::to_string(actual) + " values, expected " + std::to_string(expected), false);
}

} // namespace blockscope::h5
