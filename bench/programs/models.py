"""autograd's examples (HIPS/autograd, examples/): recurrent nets, a classifier, logistic
regression, a Gaussian process and black-box variational inference, with parameters in the
containers the examples use (dicts, lists of tuples, one flat vector)."""

import numpy as np

from bench.programs import Program

RNG = np.random.default_rng
AUTOGRAD = "HIPS/autograd, examples"


def logsumexp(x):
    """Along axis 1, kept: what the examples import from autograd.scipy.special."""
    top = np.max(x, axis=1, keepdims=True)
    return top + np.log(np.sum(np.exp(x - top), axis=1, keepdims=True))


def sigmoid(x):
    return 0.5 * (np.tanh(x) + 1.0)


def concat_and_multiply(weights, *args):
    cat_state = np.hstack(args + (np.ones((args[0].shape[0], 1)),))
    return np.dot(cat_state, weights)


# --- examples/rnn.py ---------------------------------------------------------------------


def rnn_predict(params, inputs):
    def update_rnn(input, hiddens):
        return np.tanh(concat_and_multiply(params["change"], input, hiddens))

    def hiddens_to_output_probs(hiddens):
        output = concat_and_multiply(params["predict"], hiddens)
        return output - logsumexp(output)

    num_sequences = inputs.shape[1]
    hiddens = np.repeat(params["init hiddens"], num_sequences, axis=0)
    output = [hiddens_to_output_probs(hiddens)]
    for input in inputs:
        hiddens = update_rnn(input, hiddens)
        output.append(hiddens_to_output_probs(hiddens))
    return output


def rnn_loss(params, inputs, targets):
    """rnn.py's negative log likelihood: 20 steps, 16 sequences, 64 symbols, 40 hidden."""
    logprobs = rnn_predict(params, inputs)
    loglik = 0.0
    num_time_steps, num_examples, _ = inputs.shape
    for t in range(num_time_steps):
        loglik += np.sum(logprobs[t] * targets[t])
    return -loglik / (num_time_steps * num_examples)


# --- examples/lstm.py --------------------------------------------------------------------


def lstm_predict(params, inputs):
    def update_lstm(input, hiddens, cells):
        change = np.tanh(concat_and_multiply(params["change"], input, hiddens))
        forget = sigmoid(concat_and_multiply(params["forget"], input, hiddens))
        ingate = sigmoid(concat_and_multiply(params["ingate"], input, hiddens))
        outgate = sigmoid(concat_and_multiply(params["outgate"], input, hiddens))
        cells = cells * forget + ingate * change
        hiddens = outgate * np.tanh(cells)
        return hiddens, cells

    def hiddens_to_output_probs(hiddens):
        output = concat_and_multiply(params["predict"], hiddens)
        return output - logsumexp(output)

    num_sequences = inputs.shape[1]
    hiddens = np.repeat(params["init hiddens"], num_sequences, axis=0)
    cells = np.repeat(params["init cells"], num_sequences, axis=0)
    output = [hiddens_to_output_probs(hiddens)]
    for input in inputs:
        hiddens, cells = update_lstm(input, hiddens, cells)
        output.append(hiddens_to_output_probs(hiddens))
    return output


def lstm_loss(params, inputs, targets):
    """lstm.py's negative log likelihood: 20 steps, 16 sequences, 64 symbols, 40 hidden."""
    logprobs = lstm_predict(params, inputs)
    loglik = 0.0
    num_time_steps, num_examples, _ = inputs.shape
    for t in range(num_time_steps):
        loglik += np.sum(logprobs[t] * targets[t])
    return -loglik / (num_time_steps * num_examples)


def sequences(names, steps, batch, symbols, state, scale=0.5):
    rng = RNG(8)
    params = {"init hiddens": rng.normal(size=(1, state)) * scale}
    if "init cells" in names:
        params["init cells"] = rng.normal(size=(1, state)) * scale
    for name in names:
        if name not in params:
            params[name] = rng.normal(size=(symbols + state + 1, state)) * scale
    params["predict"] = rng.normal(size=(state + 1, symbols)) * scale
    one_hot = np.eye(symbols)[rng.integers(0, symbols, (steps + 1, batch))]
    return params, one_hot[:-1], one_hot[1:]


RNN_PARAMS = ("change",)
LSTM_PARAMS = ("init cells", "change", "forget", "ingate", "outgate")

# --- examples/neural_net.py --------------------------------------------------------------


def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs)


def l2_norm(params):
    return sum(np.sum(W**2) + np.sum(b**2) for W, b in params)


def neural_net_loss(params, inputs, targets):
    """neural_net.py's negative log posterior: 784-200-100-10, tanh, batch 256, L2 prior."""
    log_prior = -1.0 * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return -(log_prior + log_lik)


def classifier(sizes, batch):
    rng = RNG(9)
    params = [
        (0.1 * rng.normal(size=(m, n)), 0.1 * rng.normal(size=n))
        for m, n in zip(sizes[:-1], sizes[1:])
    ]
    targets = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    return params, rng.normal(size=(batch, sizes[0])), targets


# --- examples/logistic_regression.py -----------------------------------------------------


def logistic_sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    return logistic_sigmoid(np.dot(inputs, weights))


def training_loss(weights, inputs, targets):
    """logistic_regression.py's loss, 10000 examples of 100 features."""
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def labelled(n, features):
    rng = RNG(10)
    inputs = rng.normal(size=(n, features))
    return 0.1 * rng.normal(size=features), inputs, (inputs[:, 0] > 0).astype(np.float64)


# --- examples/gaussian_process.py --------------------------------------------------------


def rbf_covariance(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs**2, axis=2))


def mvn_logpdf(y, mean, cov):
    """What the example takes from autograd.scipy.stats.multivariate_normal."""
    factor = np.linalg.cholesky(cov)
    alpha = np.linalg.solve(cov, y - mean)
    return (
        -0.5 * np.dot(y - mean, alpha)
        - np.sum(np.log(np.diag(factor)))
        - 0.5 * len(y) * np.log(2 * np.pi)
    )


def gp_loss(params, x, y):
    """gaussian_process.py's negative log marginal likelihood: 300 points in 2 dimensions,
    a mean, a noise and an RBF kernel's scale and lengthscales in one vector."""
    mean, noise_scale = params[0], np.exp(params[1]) + 0.0001
    cov_y_y = rbf_covariance(params[2:], x, x) + noise_scale * np.eye(len(y))
    prior_mean = mean * np.ones(len(y))
    return -mvn_logpdf(y, prior_mean, cov_y_y)


def gp_data(n, dims):
    rng = RNG(11)
    x = rng.uniform(-3, 3, (n, dims))
    y = np.cos(x[:, 0]) + 0.1 * rng.normal(size=n)
    return np.array([0.1, np.log(0.1), 0.0] + [0.0] * dims), x, y


# --- examples/black_box_svi.py -----------------------------------------------------------


def norm_logpdf(x, mean, scale):
    return -0.5 * ((x - mean) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)


def log_density(x):
    """The example's funnel-shaped target density of two variables."""
    mu, log_sigma = x[:, 0], x[:, 1]
    return norm_logpdf(log_sigma, 0, 1.35) + norm_logpdf(mu, 0, np.exp(log_sigma))


def variational_objective(params, noise):
    """black_box_svi.py's negative evidence lower bound of a diagonal Gaussian, with the
    example's sampling noise passed in (100,000 samples) so every library sees the same."""
    D = noise.shape[1]
    mean, log_std = params[:D], params[D:]
    samples = noise * np.exp(log_std) + mean
    entropy = 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)
    return -(entropy + np.mean(log_density(samples)))


def svi_start(samples):
    return np.array([-1.0, -1.0, -5.0, -5.0]), RNG(12).normal(size=(samples, 2))


PROGRAMS = [
    Program(
        "RNN, 20 steps",
        f"{AUTOGRAD}/rnn.py",
        rnn_loss,
        lambda tiny: sequences(RNN_PARAMS, *((3, 2, 4, 3) if tiny else (20, 16, 64, 40))),
    ),
    Program(
        "LSTM, 20 steps",
        f"{AUTOGRAD}/lstm.py",
        lstm_loss,
        lambda tiny: sequences(LSTM_PARAMS, *((3, 2, 4, 3) if tiny else (20, 16, 64, 40))),
    ),
    Program(
        "neural net classifier",
        f"{AUTOGRAD}/neural_net.py",
        neural_net_loss,
        lambda tiny: classifier((5, 4, 3, 2) if tiny else (784, 200, 100, 10), 3 if tiny else 256),
    ),
    Program(
        "logistic regression",
        f"{AUTOGRAD}/logistic_regression.py",
        training_loss,
        lambda tiny: labelled(*((6, 3) if tiny else (10_000, 100))),
    ),
    Program(
        "Gaussian process NLL",
        f"{AUTOGRAD}/gaussian_process.py",
        gp_loss,
        lambda tiny: gp_data(5 if tiny else 300, 2),
    ),
    Program(
        "black-box SVI",
        f"{AUTOGRAD}/black_box_svi.py",
        variational_objective,
        lambda tiny: svi_start(7 if tiny else 100_000),
    ),
]
