# Vendored copy of the seed's reference code, kept here so that a clone of this repository can regenerate the golden
# vectors (generate_golden.py imports this file). Do not edit: it must stay the code the goldens were made with.
#
# Source: the blog post "Batch Normalization&Dropout浅析" ("A short analysis of Batch Normalization & Dropout") by
# guoyaohua, https://www.cnblogs.com/guoyaohua/p/8042248.html, as reposted on 2019-06-27 (the project's seed
# document). Its code fills in the skeleton of Stanford CS231n's assignment 2 (batchnorm_forward/backward,
# dropout_forward/backward); the article gives it as one-line listings, reformatted below into runnable numpy code
# with the behaviour unchanged.
"""The reference layer math of the seed document 000_3bbbaebc16a919a3.txt
(batchnorm_forward / batchnorm_backward / dropout_forward / dropout_backward),
reformatted from the article's single-line listing into runnable numpy code.
Behaviour is kept exactly as written there, including:
  - training-time variance is the biased np.var (divide by N);
  - running stats start at zeros unless bn_param already holds them;
  - running = momentum * running + (1 - momentum) * batch_stat, momentum 0.9, eps 1e-5;
  - dropout's p is the DROP probability; inverted dropout: mask = (rand >= p) / (1 - p).
Needs numpy (Debian: apt-get install python3-numpy).
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == 'train':
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)
        x_hat = (x - sample_mean) / (np.sqrt(sample_var + eps))
        out = gamma * x_hat + beta
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
        cache = (gamma, x, sample_mean, sample_var, eps, x_hat)
    elif mode == 'test':
        x_h = (x - bn_param["running_mean"]) / (np.sqrt(bn_param["running_var"] + eps))
        out = gamma * x_h + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    gamma, x, sample_mean, sample_var, eps, x_hat = cache
    N = x.shape[0]
    D = x.shape[1]
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    std = np.sqrt(sample_var.reshape(1, D) + eps)
    dx = dx_hat / std
    dstd = np.sum(-dx_hat * (x_hat / std), axis=0).reshape(1, D)
    dm = np.sum(-dx_hat / std, axis=0).reshape(1, D)
    dvar = dstd / (2 * std)
    dm += dvar * (-2 / N) * ((x - sample_mean).sum(axis=0).reshape(1, D))
    dx += dvar * (2 / N) * (x - sample_mean)
    dx += dm / N
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    mask = None
    out = None
    if mode == 'train':
        mask = (np.random.rand(*x.shape) >= p) / (1 - p)
        out = x * mask
    elif mode == 'test':
        out = x
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param['mode']
    dx = None
    if mode == 'train':
        dx = dout * mask
    elif mode == 'test':
        dx = dout
    return dx
