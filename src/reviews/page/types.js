// @ts-check
// The shapes the page's modules exchange: JSDoc types only, nothing runs here and no module imports
// this file at run time (they name these types as import('./types.js').Name).

/** @typedef {'NORMAL' | 'ANOMALOUS'} Verdict */

/** @typedef {'info' | 'ok' | 'error'} StatusKind */

/**
 * A rectangle as shares (0–1) of the photo's width and height, from its top-left corner, as the API
 * takes and gives it (Box, BoxInput).
 * @typedef {object} Rect
 * @property {number} x
 * @property {number} y
 * @property {number} width
 * @property {number} height
 */

/**
 * A point as shares (0–1) of the photo.
 * @typedef {object} Point
 * @property {number} x
 * @property {number} y
 */

/**
 * A box the reviewer drew; `id` is local to the page, `type` one of the anomaly types.
 * @typedef {Rect & { id: number, type: string | null }} Box
 */

/**
 * A region as submitReview takes it (ReviewRegionInput).
 * @typedef {object} RegionInput
 * @property {Rect} box
 * @property {string | null} type
 */

/**
 * @typedef {object} ModelRegion
 * @property {string} type
 * @property {number | null} confidence
 * @property {Rect} box
 */

/**
 * @typedef {object} Heatmap
 * @property {string} url
 * @property {Rect} frame
 */

/**
 * What the model said about the photo (ReviewModelOutput).
 * @typedef {object} ModelOutput
 * @property {string} detector
 * @property {string} modelVersion
 * @property {boolean} isAnomalous
 * @property {number} confidence
 * @property {ModelRegion[]} regions
 * @property {Heatmap[]} heatmaps
 */

/**
 * A claimed review task, with the fields TASK_FIELDS asks for.
 * @typedef {object} ReviewTask
 * @property {string} id
 * @property {string} reason
 * @property {string} status
 * @property {number} uncertainty
 * @property {string} deviceType
 * @property {string | null} imageUrl
 * @property {number | null} imageWidth
 * @property {number | null} imageHeight
 * @property {string | null} claimedUntil
 * @property {ModelOutput | null} modelOutput
 */

/**
 * @typedef {object} ReviewSettings
 * @property {string[]} anomalyTypes
 * @property {number} leaseSeconds
 * @property {number} requiredAnswers
 * @property {string} humanReview
 */

/**
 * @typedef {object} ReviewStats
 * @property {number} pending
 * @property {number} mineToday
 */

/**
 * @typedef {object} Viewer
 * @property {string} name
 * @property {string} role
 */

/**
 * The answer to Q_SIGN_IN.
 * @typedef {object} SignInData
 * @property {Viewer} viewer
 * @property {ReviewSettings} reviewSettings
 * @property {ReviewStats} reviewStats
 */

/**
 * A drag drawing a new box.
 * @typedef {object} DrawDrag
 * @property {'draw'} mode
 * @property {Point} start
 * @property {Point | null} cur
 */

/**
 * A drag moving a box, or resizing it by one corner.
 * @typedef {object} EditDrag
 * @property {'move' | 'resize'} mode
 * @property {number} id
 * @property {string | undefined} corner  nw, ne, sw or se when resizing
 * @property {Point} start
 * @property {Box} orig
 * @property {Box[]} before  the boxes before the drag, for undo
 * @property {boolean} moved
 */

/** @typedef {DrawDrag | EditDrag} Drag */

/**
 * Everything the page knows; one object, shared by the modules (state.js).
 * @typedef {object} PageState
 * @property {string | null} key  the API key signed in with
 * @property {number} session  bumped on every sign in and out, so late answers of an old session are dropped
 * @property {ReviewSettings | null} settings
 * @property {ReviewTask | null} task
 * @property {Verdict | null} verdict
 * @property {Box[]} boxes
 * @property {number | null} selected  id of the selected box
 * @property {Box[][]} undo
 * @property {string | null} defaultType  the type new boxes get
 * @property {string[]} skipped  ids of tasks skipped in this session
 * @property {boolean} busy  a submit or skip is under way
 * @property {boolean} claiming
 * @property {ReturnType<typeof setTimeout> | undefined} pollTimer
 * @property {Drag | null} drag
 * @property {number} nextBoxId
 * @property {{ w: number, h: number }} disp  the photo's displayed size in CSS pixels
 */

export {};
