#pragma once

#include "chartwidget.h"

namespace blockscope::views {

class GateEvalModel;
class GateTrainModel;

// The live loss curve of a gate training run: the training loss per step as a line and the
// held-out loss (same scale) at each evaluation as marked points, both fed from their models
// through QVXYModelMapper so the curve grows as steps arrive. The x axis spans the run's steps
// from the start, so the curve also shows how far the run has got.
class LossChart : public ChartWidget
{
    Q_OBJECT
public:
    explicit LossChart(QWidget *parent = nullptr);
    ~LossChart() override;

    // The models must outlive the chart or be replaced first; null detaches.
    void setModels(GateTrainModel *steps, GateEvalModel *evals);
    void setTotalSteps(qint64 steps);

    int trainingPointCount() const;
    int evalPointCount() const;
    double xAxisMax() const;

    bool exportTo(const QString &path, QString *error = nullptr);

private:
    void attachAxes() override;
    void rescale() override;

    QLineSeries *m_loss;
    QLineSeries *m_heldOut;
    QVXYModelMapper *m_lossMapper;
    QVXYModelMapper *m_heldOutMapper;
    qint64 m_totalSteps = 0;
};

} // namespace blockscope::views
