#pragma once

#include "ppa/ppa.h"

#include "columntablemodel.h"

#include <vector>

namespace blockscope::views {

// What the PPA chart puts on its x axis (../shared/specs/ppa.md, "The three axes").
enum class PpaAxis { PrefillThroughput, DecodeLatency, StoredSize, PrefillEnergy, DecodeEnergy };
// What it puts on its y axis: the configuration's quality.
// The search score is the method's own (calibration) score of each step's choice: what a run
// searched without per-step evaluation still has.
enum class PpaQuality { Perplexity, KlToDense, SearchScore };

// The PPA points of one run (or sweep), one row per configuration in step order (dense first):
// what the PPA page's table shows, what the PPA chart maps into its series and what the data
// export writes. Every figure column says in its header whether it is measured or modelled; a
// measured column holds only figures that were measured (an energy figure that fell back to the
// model stays out of it and says why in its tooltip). The modelled columns show the roofline
// prediction of one device: this machine (calibrated) unless setModelledDevice chose another.
// Holds a copy of the immutable points.
class PpaPointModel : public ColumnTableModel
{
    Q_OBJECT
public:
    enum Column {
        Label,
        Mask,
        Perplexity, // measured (evaluated with the run's protocol)
        KlToDense, // measured
        PrefillMeasured, // tokens/s; next to its modelled figure and the gap
        PrefillModelled,
        PrefillGap, // (measured - modelled) / modelled, percent
        DecodeMeasured, // ms/token
        DecodeModelled,
        DecodeGap,
        PrefillEnergyMeasured, // mJ/token
        PrefillEnergyModelled,
        DecodeEnergyMeasured,
        DecodeEnergyModelled,
        ParamsKept, // modelled (cost model)
        StoredMegabytes, // modelled: kept weights in the checkpoint's dtypes
        PeakMemory, // MB; measured or modelled: each cell says which
        SearchScore, // the search's own score of the step's choice (calibration), from the trace
        ColumnCount
    };
    // The number behind a cell (double, NaN when there is none); the same role number as the
    // trace table's, so MetricFilterProxy filters either.

    explicit PpaPointModel(QObject *parent = nullptr);

    // Sorted by step (dense and sweep points, step -1, first; otherwise the order given).
    void setPoints(std::vector<ppa::PpaPoint> points);
    const std::vector<ppa::PpaPoint> &points() const { return m_points; }
    const ppa::PpaPoint &point(int row) const { return m_points[static_cast<std::size_t>(row)]; }

    // The device whose roofline prediction fills the modelled columns; empty: this machine (the
    // calibrated prediction).
    void setModelledDevice(const QString &device);
    QString modelledDevice() const { return m_device; }
    // The prediction shown for a row, or null when the point has none for the device.
    const ppa::Prediction *prediction(int row) const;
    // "roofline, this machine" or "roofline, H100 SXM".
    QString modelledSource() const;
    // Every device some point has a prediction for, the calibrated one as "" first.
    QStringList predictionDevices() const;

    // The dense model's row (step -1 with nothing removed), or -1.
    int denseRow() const;
    bool anyMeasured() const;
    double value(int row, int column) const;
    // The configuration and every figure with its provenance, for tooltips.
    QString describe(int row) const;

    // The chart's columns for an axis: the measured one (-1 when the axis has none) and the modelled one.
    static int measuredColumn(PpaAxis axis);
    static int modelledColumn(PpaAxis axis);
    static int qualityColumn(PpaQuality quality);
    // Whether smaller is better on the axis (throughput: larger).
    static bool minimise(PpaAxis axis);
    // "Prefill throughput (tokens/s)".
    static QString axisName(PpaAxis axis);
    static QString qualityName(PpaQuality quality);
    // The modelled figures of an axis come from the roofline (true) or the cost model (stored size).
    static bool fromRoofline(PpaAxis axis);

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    int rows() const override;
    QString cellText(int row, int column) const;
    QString cellToolTip(int row, int column) const;

    std::vector<ppa::PpaPoint> m_points;
    QString m_device;
};

} // namespace blockscope::views
