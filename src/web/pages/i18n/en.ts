/**
 * English messages of the gateway's pages. One catalogue per language (es.ts has the same shape,
 * checked by the compiler); see catalogue.ts for how a page uses them.
 */

const plural = (n: number, one: string, other: string) => (new Intl.PluralRules('en').select(n) === 'one' ? one : other);

export const en = {
  languageName: 'English',
  common: {
    language: 'Language',
  },
  view: {
    title: 'Your visit summary',
    opening: 'Opening your link…',
    openingSummary: 'Opening your summary…',
    noScript: 'This page needs JavaScript turned on to open your link.',
    passcodeLabel: 'Passcode',
    passcodeHelp: 'The clinic gave you a passcode with this link. Type it here to see your summary.',
    passcodeSubmit: 'Open my summary',
    passcodeNeeded: 'This link needs a passcode.',
    passcodeFirst: 'Type the passcode first.',
    passcodeWrong: (remaining: number | undefined) =>
      remaining === undefined
        ? 'That passcode is not right. Try again.'
        : `That passcode is not right. You can try ${remaining} more ${plural(remaining, 'time', 'times')}.`,
    passcodeLocked: 'That passcode is not right, and this link is now locked. Ask the clinic for a new link.',
    print: 'Print',
    footer: 'Your summary is unlocked on this phone or computer. The secret part of your link is never sent to our server.',
    errors: {
      noLink: 'There is no health link in this address. Open the full link the clinic gave you.',
      brokenLink: 'This link is not complete or not correct. Check that you copied all of it, or ask the clinic for a new link.',
      newerFormat: 'This link uses a newer format than this page can open. Try a health wallet app.',
      otherService: 'This link was made by a different service, so this page cannot open it. Open it with a health wallet app.',
      otherServiceFile: 'Part of this link is kept by a different service, so this page cannot open it.',
      noLongerWorks:
        'This link no longer works. It may have expired or been cancelled, or it was locked after too many wrong passcodes. Ask the clinic for a new link.',
      tooManyTries: 'Too many tries right now. Wait a minute, then reload this page.',
      cannotReach: 'Cannot reach the server. Check your internet connection and try again.',
      serverCannotOpen: 'The server could not open this link right now. Try again later.',
      serverCannotSend: 'The server could not send your summary right now. Try again later.',
      unreadableAnswer: 'The server sent something this page cannot read.',
      tooLarge: 'This summary is too large for this page to open.',
      cannotUnlock: 'This summary could not be unlocked. The link may be damaged; ask the clinic for a new one.',
      needsHttps: 'This page must be opened over a secure (https) connection to unlock your summary.',
      unreadableSummary: 'Your summary could not be read. Ask the clinic for a new link.',
      nothingToShow: 'This link has nothing this page can show.',
      somethingWrong: 'Something went wrong while opening your summary. Reload the page to try again.',
      expired: (date: string) => `This link expired on ${date}. Ask the clinic for a new link.`,
    },
    plain: {
      title: 'In plain words',
      aiLabel: 'Written by AI',
      notAiLabel: 'Not AI-generated',
      aiDisclaimer:
        'This summary was written by artificial intelligence (AI) from your visit record. It may leave things out or contain mistakes, and it has not been checked by your care team. It is not medical advice and does not replace your care team. Do not start, stop or change any medicine because of it. Ask your care team about anything that is unclear. In an emergency, call 911.',
      fallbackDisclaimer:
        'This summary was put together automatically from your visit record, without artificial intelligence. It repeats what the record says and has not been checked by your care team. It is not medical advice and does not replace your care team. Do not start, stop or change any medicine because of it. Ask your care team about anything that is unclear. In an emergency, call 911.',
      whenToSeekCare: 'When to get care',
      whatHappened: 'What happened',
      diagnoses: 'Diagnoses',
      medications: 'Medicines',
      nextSteps: 'Next steps',
      clinicalGuidance: 'What your care team told you',
      educational: 'General health information (not advice about your care)',
      citedFrom: 'From your record:',
    },
    record: {
      title: 'From your visit record',
      date: 'Date',
      where: 'Where',
      seenBy: 'Seen by',
      from: 'From',
      visitType: 'Type of visit',
      reason: 'Reason for visit',
      diagnoses: 'Your diagnoses',
      medicines: 'Your medicines',
      instructions: 'What to do next',
      appointments: 'Next appointment',
      notes: 'Notes from your visit',
      laterAppointment: 'Later appointment',
      withWhom: (names: string) => `with ${names}`,
      resolved: 'Resolved',
      stopped: 'Stopped',
      aMedicine: 'A medicine',
      aHealthProblem: 'A health problem',
      visit: 'Your visit',
    },
    card: {
      included: 'Verifiable copy included.',
      explain: (n: number) =>
        n === 1
          ? 'This link also holds a SMART Health Card: a signed copy of this record that other health apps can check came from the clinic.'
          : `This link also holds ${n} SMART Health Cards: signed copies of this record that other health apps can check came from the clinic.`,
      openInWallet: 'To see what is inside a card, open this link in a health wallet app.',
      otherKind: 'This link also has a kind of file this page cannot show.',
    },
    attachments: {
      title: 'Documents',
      limits: (max: string) => `PDF, JPEG and PNG documents open here; TIFF images can be downloaded. Each document can be up to ${max}.`,
      open: (title: string) => `Open ${title}`,
      download: (title: string) => `Download ${title}`,
      tooLarge: (max: string) => `Too large to open here (the limit is ${max}).`,
      notAvailable: 'This document is not in your link.',
      unsupported: 'This kind of document cannot be opened here.',
      untitled: 'Document',
      types: { pdf: 'PDF document', jpeg: 'JPEG image', png: 'PNG image', tiff: 'TIFF image', other: 'Other file' },
    },
  },
  kiosk: {
    title: 'Check in',
    setupTitle: 'Set up this kiosk',
    tokenLabel: 'Kiosk access token',
    tokenHelp: "Staff only. Paste the access token from your clinic's administrator. It is kept in this browser tab only.",
    start: 'Start check-in',
    waitingTitle: 'Scan this code with your phone',
    waitingLead: 'Open your health wallet app and scan the code. Your phone will ask you to confirm who you are and what to share.',
    qrAlt: 'Check-in code. Scan it with your health wallet app.',
    worksUntil: (time: string) => `This code works until ${time}.`,
    checkedIn: (name: string | undefined) => (name ? `Checked in: ${name}` : 'Checked in'),
    doneLead: 'Thank you. Please take a seat; we will call you soon.',
    next: 'Next person',
    tokenRefused: 'This kiosk token was not accepted. Ask your administrator for a new one.',
    tokenNotAllowed: 'This kiosk token is not allowed to check people in.',
    newCode: 'Here is a new code.',
    codeExpired: 'That code has expired. Here is a new one.',
    cannotReach: 'Cannot reach the check-in service right now. Trying again…',
    pasteFirst: 'Paste the kiosk access token first.',
    mdlButton: "Use your mobile driver's licence",
    mdlFollowBrowser: 'Follow the steps your browser shows to share your licence from your phone.',
    mdlNotShared: 'Your licence was not shared. You can try again, or just scan the code.',
    mdlVerified: 'Licence verified. Now scan the code with your health wallet app to share your health information.',
    mdlNotVerified: 'Your licence could not be verified here. Please scan the code with your health wallet app instead.',
  },
};

/** The shape every catalogue has: the same keys, strings where en has strings, the same functions. */
export type Messages = typeof en;
