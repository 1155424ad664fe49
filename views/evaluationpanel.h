#pragma once

#include "jobrunner.h"

#include <QComboBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QWidget>

namespace blockscope::views {

// Perplexity of the open model on a text, with the protocol card beside the number (and, with
// units skipped, the dense baseline and the distance to it). Runs as a job through the runner;
// a new run supersedes the one in flight.
class EvaluationPanel : public QWidget
{
    Q_OBJECT
public:
    EvaluationPanel(JobRunner *runner, QWidget *parent = nullptr);

    void setModelPath(const QString &path);
    void setTextPath(const QString &path);
    void setProtocol(const QString &preset);
    void setMaxWindows(int windows);
    // Units to skip, as the CLI writes them: "3,5".
    void setSkips(const QString &attn, const QString &mlp, const QString &block);
    void run();

    QString resultText() const;
    QPushButton *runButton() const { return m_run; }

Q_SIGNALS:
    void evaluated(double perplexity, const QString &protocolLine);
    void failed(const QString &message);

private:
    JobRunner *m_runner;
    QString m_modelPath;
    QLineEdit *m_text = new QLineEdit(this);
    QComboBox *m_protocol = new QComboBox(this);
    QSpinBox *m_maxWindows = new QSpinBox(this);
    QLineEdit *m_skipAttn, *m_skipMlp, *m_skipBlock;
    QPushButton *m_run = new QPushButton(tr("Evaluate"), this);
    QPlainTextEdit *m_result = new QPlainTextEdit(this);
};

} // namespace blockscope::views
