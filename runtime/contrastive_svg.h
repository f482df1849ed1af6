/* contrastive_svg.h — internal to the contrastive study: its temperature
 * figure, appended to an RBuf as one well-formed <svg> element. */
#ifndef MMGC_CONTRASTIVE_SVG_H
#define MMGC_CONTRASTIVE_SVG_H

#include "io_util.h"

typedef struct {
    double sim_pos, sim_neg;
    const double *tau;           /* [n] increasing, > 0            */
    const double *f_xent, *f_log; /* [n] in [-1, 0]                 */
    int n;                       /* >= 2                           */
    double f_xent_at_one, f_log_at_one; /* the curves at tau = 1   */
    double large_xent, large_log; /* the study's limits, tau -> inf */
    double small_xent, small_log; /* the study's limits, tau -> 0   */
} TemperatureChart;

/* f_Xent and f_Log against tau on a log axis (y fixed to [-1.1, 0.1]),
 * the limits as dashed lines with their labels, the values at tau = 1 as
 * dots. */
void svg_temperature_chart(RBuf *b, const TemperatureChart *c);

#endif
